package filelist

import (
	"slices"
	"strings"
	"unicode"

	"github.com/strata-storage/strata/internal/natural"
)

// The visible index (m.vis) is recomputed only when its inputs change: a
// page arrives (only the new entries are filtered, then appended or merged
// in), the filter, the sort or the hidden switch changes. View reads it.

// isHidden is the hidden-file rule for every source: a leading dot.
func isHidden(name string) bool { return strings.HasPrefix(name, ".") }

// matcher returns the filter test: a substring match, case-insensitive
// unless the filter has an upper-case letter (smart case, as in vim).
func (m *Model) matcher() func(i int) bool {
	f := m.filter
	if f == "" {
		return func(int) bool { return true }
	}
	if strings.IndexFunc(f, unicode.IsUpper) >= 0 {
		return func(i int) bool { return strings.Contains(m.items[i].Name, f) }
	}
	return func(i int) bool { return strings.Contains(m.lower[i], f) }
}

// shown reports whether item i passes the hidden switch.
func (m *Model) shown(i int) bool { return m.hidden || !isHidden(m.items[i].Name) }

// cmp orders items a and b for display. Names sort naturally (note2
// before note10, case aside), which is not the source's byte order, so
// every page is merged in. Ties fall back to the source's name order, so
// the order is total and stable across pages.
func (m *Model) cmp(a, b int) int {
	c := 0
	switch m.sortBy {
	case SortName:
		c = natural.Compare(m.lower[a], m.lower[b])
	case SortSize:
		c = -cmpInt64(m.items[a].Size, m.items[b].Size)
	case SortTime:
		c = -m.items[a].ModTime.Compare(m.items[b].ModTime)
	}
	if c == 0 {
		c = a - b
	}
	if m.reverse {
		c = -c
	}
	return c
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// appendItems adds a page's entries and shows those that pass.
func (m *Model) appendItems(items []Item) {
	start := len(m.items)
	for _, it := range items {
		m.items = append(m.items, it)
		m.lower = append(m.lower, strings.ToLower(it.Name))
		m.marked = append(m.marked, m.pending[it.Name])
	}
	match := m.matcher()
	var add []int
	for i := start; i < len(m.items); i++ {
		if !m.shown(i) || !match(i) {
			continue
		}
		add = append(add, i)
		if m.markAll {
			m.marked[i] = true
		}
		if m.marked[i] {
			m.selN++
			m.selBytes += m.items[i].Size
		}
	}
	if len(add) == 0 {
		return
	}
	slices.SortFunc(add, m.cmp)
	if len(m.vis) == 0 || m.cmp(m.vis[len(m.vis)-1], add[0]) <= 0 {
		// The page sorts after all that is shown, as pages in name
		// order mostly do: appended, in time linear in the page.
		m.vis = append(m.vis, add...)
		return
	}
	// Merge the sorted page in: linear in the folder, where re-sorting
	// everything on every page of a 100,000-entry folder would not be.
	keep, row := m.curItem(), m.cur-m.off
	merged := make([]int, 0, len(m.vis)+len(add))
	a, b := m.vis, add
	for len(a) > 0 && len(b) > 0 {
		if m.cmp(a[0], b[0]) <= 0 {
			merged, a = append(merged, a[0]), a[1:]
		} else {
			merged, b = append(merged, b[0]), b[1:]
		}
	}
	merged = append(append(merged, a...), b...)
	m.vis = merged
	m.follow(keep, row)
}

// curItem is the items index under the cursor, or -1.
func (m *Model) curItem() int {
	if m.cur < 0 || m.cur >= len(m.vis) {
		return -1
	}
	return m.vis[m.cur]
}

// follow puts the cursor back on item keep at screen row row after the
// index changed; if keep is no longer shown the cursor stays at its index.
func (m *Model) follow(keep, row int) {
	if keep >= 0 {
		if pos := slices.Index(m.vis, keep); pos >= 0 {
			m.cur = pos
			m.scrollTo(row)
			return
		}
	}
	m.cur = min(m.cur, max(len(m.vis)-1, 0))
	m.scrollTo(-1)
}

// rebuild recomputes the index from scratch (sort, reverse, hidden, or a
// filter that is not a narrowing of the previous one).
func (m *Model) rebuild() {
	keep, row := m.curItem(), m.cur-m.off
	match := m.matcher()
	vis := make([]int, 0, len(m.items))
	for i := range m.items {
		if m.shown(i) && match(i) {
			vis = append(vis, i)
		}
	}
	slices.SortFunc(vis, m.cmp)
	m.vis = vis
	m.recount()
	m.follow(keep, row)
}

// recount totals the shown marks.
func (m *Model) recount() {
	m.selN, m.selBytes = 0, 0
	for _, i := range m.vis {
		if m.marked[i] {
			m.selN++
			m.selBytes += m.items[i].Size
		}
	}
}

// setFilter applies a new filter. Typing more only narrows a substring
// match, so then only the rows already shown are tested. If the cursor's
// entry no longer matches, the cursor goes to the first match.
func (m *Model) setFilter(f string) {
	old := m.filter
	m.filter = f
	if old == "" || !strings.Contains(f, old) {
		keep := m.curItem()
		m.rebuild()
		if keep >= 0 && m.curItem() != keep {
			m.cur = 0
			m.scrollTo(-1)
		}
		return
	}
	keep := m.curItem()
	match := m.matcher()
	vis := make([]int, 0, len(m.vis))
	for _, i := range m.vis {
		if match(i) {
			vis = append(vis, i)
		}
	}
	m.vis = vis
	m.recount()
	if pos := slices.Index(m.vis, keep); keep >= 0 && pos >= 0 {
		m.cur = pos
	} else {
		m.cur = 0
	}
	m.scrollTo(-1)
}

// toggle flips the mark under the cursor.
func (m *Model) toggle() {
	i := m.curItem()
	if i < 0 {
		return
	}
	m.setMark(i, !m.marked[i])
	if !m.marked[i] {
		m.markAll = false
	}
}

func (m *Model) setMark(i int, on bool) {
	if m.marked[i] == on {
		return
	}
	m.marked[i] = on
	d := 1
	if !on {
		d = -1
	}
	m.selN += d
	m.selBytes += int64(d) * m.items[i].Size
}

// selectAll marks every shown entry, and (through needAll) loads the rest
// of the folder, marking its shown entries as they come, so "all" means
// the whole folder and not the pages that happened to be loaded.
func (m *Model) selectAll() {
	for _, i := range m.vis {
		m.setMark(i, true)
	}
	m.markAll = true
}

// invert flips the marks of the shown entries loaded so far.
func (m *Model) invert() {
	m.markAll = false
	for _, i := range m.vis {
		m.setMark(i, !m.marked[i])
	}
}
