package filelist

import (
	"errors"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/strata-storage/strata/internal/human"
)

// RowsTop is the pane line of the first row: the frame's top line is
// above it. RowAt does the arithmetic.
const RowsTop = 1

// Column widths.
const (
	markW    = 2 // "* " or "  "
	sizeW    = 8 // human.Short is at most 8 wide
	longTime = "2006-01-02 15:04"
	dateOnly = "2006-01-02"
)

// columns is the row layout for a width: which columns fit.
type columns struct {
	name, size, time int
	timeFmt          string
}

// layout drops the columns that do not fit, the time first, so the name
// keeps a useful width; the date alone is kept when the full time does
// not fit.
func layout(iw int) columns {
	base := iw - markW - 1 // one column of margin on the right
	if n := base - (sizeW + 1) - (len(longTime) + 1); n >= 28 {
		return columns{name: n, size: sizeW, time: len(longTime), timeFmt: longTime}
	}
	if n := base - (sizeW + 1) - (len(dateOnly) + 1); n >= 24 {
		return columns{name: n, size: sizeW, time: len(dateOnly), timeFmt: dateOnly}
	}
	if n := base - (sizeW + 1); n >= 10 {
		return columns{name: n, size: sizeW}
	}
	return columns{name: max(base, 0)}
}

// rows is the number of lines inside the frame.
func (m Model) rows() int { return max(m.h-2, 0) }

// listRows is the number of lines showing entries (one less when a page
// failed after others loaded: its error takes the last line).
func (m Model) listRows() int {
	r := m.rows()
	if m.errLine() && r > 1 {
		r--
	}
	return r
}

func (m Model) errLine() bool { return m.err != nil && len(m.vis) > 0 }

// RowAt maps a pane line (y relative to the pane's top, as in the mouse
// messages Update accepts) to the index of the row shown there, counted
// from the top of the whole listing.
func (m Model) RowAt(y int) (int, bool) {
	r := y - RowsTop
	if r < 0 || r >= m.listRows() {
		return 0, false
	}
	pos := m.off + r
	if pos >= len(m.vis) {
		return 0, false
	}
	return pos, true
}

// View draws the whole pane, frame included, exactly as large as
// SetSize said. Its cost depends on the pane's size, not the folder's.
func (m Model) View() string {
	if m.w <= 0 || m.h <= 0 {
		return ""
	}
	if m.w < 4 || m.h < 3 {
		line := strings.Repeat(" ", m.w)
		return strings.TrimSuffix(strings.Repeat(line+"\n", m.h), "\n")
	}
	frame := m.st.Pane
	if m.focused {
		frame = m.st.PaneActive
	}
	bs := m.st.R.NewStyle().Foreground(frame.GetBorderTopForeground())
	fc := m.frameChars()
	vbar := bs.Render(fc.v)
	iw := m.w - 2

	var b strings.Builder
	b.WriteString(m.top(bs, fc, iw))
	for _, l := range m.body(iw) {
		b.WriteByte('\n')
		b.WriteString(vbar)
		b.WriteString(l)
		b.WriteString(vbar)
	}
	b.WriteByte('\n')
	b.WriteString(m.bottom(bs, fc, iw))
	return b.String()
}

// top is the frame's top line with the source and the folder in it.
func (m Model) top(bs lipgloss.Style, fc frameChars, iw int) string {
	titleStyle := m.st.PaneTitle
	if !m.focused {
		titleStyle = m.st.Muted
	}
	title := m.src.Title()
	avail := iw - 2 // a rule on each side of the label
	label, lw := "", 0
	if tw := ansi.StringWidth(title); avail >= tw+2 {
		label, lw = " "+titleStyle.Render(title)+" ", tw+2
		if pw := avail - lw - 1; pw >= 2 {
			p := fitLeft(sanitize(m.dir), pw)
			label += p + " "
			lw += ansi.StringWidth(p) + 1
		}
	}
	return bs.Render(fc.tl+fc.h) + label + bs.Render(strings.Repeat(fc.h, iw-1-lw)+fc.tr)
}

// segment is a part of the footer; the lowest prio goes first when the
// footer does not fit.
type segment struct {
	text string
	w    int
	prio int
}

// bottom is the frame's bottom line with the footer in it: the filter
// input while typing, the counts, the loading spinner, the filter, the
// sort.
func (m Model) bottom(bs lipgloss.Style, fc frameChars, iw int) string {
	var segs []segment
	add := func(text string, prio int) {
		segs = append(segs, segment{text, ansi.StringWidth(text), prio})
	}
	if m.filtering {
		add(m.input.View(), 5)
	}
	if len(m.items) > 0 || (!m.inflight && m.err == nil) {
		n := len(m.vis)
		count := human.Plural(n, "item", "items")
		if !m.done && !m.inflight && m.err == nil {
			count = human.Count(n) + "+ items"
		}
		if m.selN > 0 {
			count += ", " + human.Count(m.selN) + " selected (" + human.Short(m.selBytes) + ")"
		}
		add(count, 4)
	}
	if m.inflight && len(m.items) > 0 {
		what := " loaded " + human.Count(len(m.items)) + "…"
		if m.stale {
			what = " reloading…"
		}
		add(m.spin.View()+m.st.Muted.Render(what), 3)
	}
	if m.filter != "" && !m.filtering {
		add(m.st.Accent.Render("/"+sanitize(m.filter)), 2)
	}
	sort := "by " + m.sortBy.String()
	if m.reverse {
		sort += " (rev)"
	}
	add(m.st.Muted.Render(sort), 1)

	avail := iw - 2
	const sep = 2
	total := func() int {
		t := 0
		for _, s := range segs {
			t += s.w + sep
		}
		return t
	}
	for len(segs) > 1 && total() > avail {
		low := 0
		for i, s := range segs {
			if s.prio < segs[low].prio {
				low = i
			}
		}
		segs = append(segs[:low], segs[low+1:]...)
	}
	label, lw := "", 0
	if len(segs) > 0 && avail > sep {
		parts := make([]string, len(segs))
		for i, s := range segs {
			parts[i] = s.text
		}
		label = " " + strings.Join(parts, "  ") + " "
		if lw = ansi.StringWidth(label); lw > avail {
			label = ansi.Truncate(label, avail-1, "…") + " "
			lw = ansi.StringWidth(label)
		}
	}
	return bs.Render(fc.bl+fc.h) + label + bs.Render(strings.Repeat(fc.h, max(iw-1-lw, 0))+fc.br)
}

// body is the lines inside the frame, each exactly iw wide.
func (m Model) body(iw int) []string {
	out := make([]string, 0, m.rows())
	blank := strings.Repeat(" ", iw)
	if len(m.vis) == 0 {
		for _, l := range m.emptyLines(iw) {
			if len(out) < m.rows() {
				out = append(out, l)
			}
		}
	} else {
		c := layout(iw)
		for r := range m.listRows() {
			if pos := m.off + r; pos < len(m.vis) {
				out = append(out, m.row(pos, c, iw))
			} else {
				out = append(out, blank)
			}
		}
		if m.errLine() && m.rows() > 1 {
			msg := "! " + sanitize(m.err.Error()) + " (" + retryHint(m.err) + ")"
			out = append(out, m.st.StatusErr.Render(fit(msg, iw)))
		}
	}
	for len(out) < m.rows() {
		out = append(out, blank)
	}
	return out
}

// retryHint says what to do about a failed listing: try again, unless
// the error says that cannot help (a Final method reporting true, as a
// refusal), when going up is what is left.
func retryHint(err error) string {
	var final interface{ Final() bool }
	if errors.As(err, &final) && final.Final() {
		return "Backspace goes up"
	}
	return "R to retry"
}

// emptyLines says why there is nothing to show.
func (m Model) emptyLines(iw int) []string {
	line := func(st lipgloss.Style, s string) string { return st.Render(fit(s, iw)) }
	switch {
	case m.err != nil:
		var out []string
		for _, l := range strings.Split(ansi.Wrap(sanitize(m.err.Error()), iw-2, ""), "\n") {
			out = append(out, line(m.st.StatusErr, " "+l))
		}
		return append(out, line(m.st.Muted, ""), line(m.st.Muted, " "+retryHint(m.err)))
	case m.inflight && len(m.items) == 0:
		return []string{" " + m.spin.View() + m.st.Muted.Render(fit(" Loading…", iw-2))}
	case len(m.items) == 0:
		return []string{line(m.st.Muted, " empty folder")}
	case m.filter != "":
		s := " no match for /" + sanitize(m.filter)
		if !m.done {
			s += " (still loading)"
		}
		return []string{line(m.st.Muted, s)}
	default:
		return []string{line(m.st.Muted, " only hidden entries (. shows them)")}
	}
}

// row draws entry pos of the index.
func (m Model) row(pos int, c columns, iw int) string {
	i := m.vis[pos]
	it := m.items[i]
	mark := "  "
	switch {
	case m.plain() && pos == m.cur && m.marked[i]:
		mark = ">*"
	case m.plain() && pos == m.cur:
		mark = "> "
	case m.marked[i]:
		mark = "* "
	}
	name := sanitize(it.Name)
	if it.Dir {
		name += "/"
	}
	if tag := m.stateTag(it); tag != "" {
		name += " " + tag
	}
	text := mark + fit(name, c.name)
	if it.ID != "" && m.linked[it.ID] && c.name > 4 {
		// After the name, which gives way to it when long.
		text = mark + fit(name, c.name-2) + " " + LinkedGlyph
	}
	var rest strings.Builder
	if c.size > 0 {
		s := ""
		if !it.Dir {
			s = human.Short(it.Size)
		}
		rest.WriteString(" " + padLeft(s, c.size))
	}
	if c.time > 0 {
		t := ""
		if !it.ModTime.IsZero() {
			t = it.ModTime.In(m.loc).Format(c.timeFmt)
		}
		rest.WriteString(" " + fit(t, c.time))
	}
	tail := rest.String()
	if pad := iw - ansi.StringWidth(text) - ansi.StringWidth(tail); pad > 0 {
		tail += strings.Repeat(" ", pad)
	}

	nameStyle := m.st.File
	if it.Dir {
		nameStyle = m.st.Dir
	}
	if m.marked[i] {
		nameStyle = m.st.RowSelected
	}
	if pos == m.cur {
		return m.cursorStyle().Inherit(nameStyle).Render(text + tail)
	}
	return nameStyle.Render(text) + m.st.Muted.Render(tail)
}

// cursorStyle is the cursor bar.
func (m Model) cursorStyle() lipgloss.Style {
	if m.focused {
		return m.st.RowCursor
	}
	return m.st.RowCursorBl
}

// plain reports a renderer that draws no styles at all (NO_COLOR, dumb
// terminals: termenv drops bold and reverse too), so the cursor is drawn
// as a '>' in the mark column and the focused pane gets a double frame.
func (m Model) plain() bool { return m.st.R.ColorProfile() == termenv.Ascii }

// frameChars are the frame's corners and rules: top-left, top-right,
// bottom-left, bottom-right, horizontal, vertical.
type frameChars struct{ tl, tr, bl, br, h, v string }

func (m Model) frameChars() frameChars {
	if m.focused && m.plain() {
		return frameChars{"╔", "╗", "╚", "╝", "═", "║"}
	}
	return frameChars{"╭", "╮", "╰", "╯", "─", "│"}
}

// stateTag marks a remote file whose content is not simply readable: in an
// archive class ("[archived glacier]"), being restored ("[restoring, by
// Jan 9 14:05]"), or restored for a time ("[restored until Jan 9]"); hot files,
// and local ones, have none.
func (m Model) stateTag(it Item) string {
	when := func(prefix string) string {
		if it.Until.IsZero() {
			return ""
		}
		return prefix + it.Until.In(m.loc).Format("Jan 2 15:04")
	}
	switch it.State {
	case "archived":
		if it.Class != "" {
			return "[archived " + it.Class + "]"
		}
		return "[archived]"
	case "restoring":
		return "[restoring" + when(", by ") + "]"
	case "restored":
		return "[restored" + when(" until ") + "]"
	}
	return ""
}

// LinkedGlyph follows the name of an entry with an active share link.
const LinkedGlyph = "⇗"
