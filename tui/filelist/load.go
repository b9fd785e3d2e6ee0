package filelist

import (
	"context"

	tea "github.com/charmbracelet/bubbletea"
)

// startLoad begins a fresh load of m.dir: a new generation, so pages of
// the previous load still on their way are dropped, and the previous
// request is cancelled. (It may still be running for a moment if the
// Source ignores ctx: one request in flight per list means one that
// counts.)
func (m *Model) startLoad() tea.Cmd {
	m.cancel()
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.gen++
	m.next, m.done, m.err, m.errFirst = "", false, nil, false
	m.inflight = true
	return tea.Batch(m.fetch("", PageSize, true), m.tick())
}

// fetch is the command that reads one page.
func (m *Model) fetch(cursor string, limit int, first bool) tea.Cmd {
	src, ctx, owner, gen, dir := m.src, m.ctx, m.owner, m.gen, m.dir
	return func() tea.Msg {
		// The source's error already says what failed; the pane's
		// title says which folder.
		res, err := src.Page(ctx, dir, cursor, limit)
		return pageMsg{owner: owner, gen: gen, first: first, res: res, err: err}
	}
}

// needAll reports that the view is only right once the whole folder is
// loaded: the server pages by name only, so any other order, a filter or
// "mark all" must see every entry.
func (m *Model) needAll() bool {
	return m.sortBy != SortName || m.reverse || m.filter != "" || m.markAll
}

// maybeFetch asks for the next page if one is needed and none is in
// flight: when the cursor is within two screens of the end of what is
// shown, or when something needs the rest of the folder. A failed page
// stops the loading until Reload.
func (m *Model) maybeFetch() tea.Cmd {
	if m.inflight || m.done || m.err != nil {
		return nil
	}
	bulk := m.needAll() || m.wantEnd || m.wantPath != ""
	if !bulk && len(m.vis)-1-m.cur >= 2*max(m.listRows(), 1) {
		return nil
	}
	limit := PageSize
	if bulk {
		limit = BulkPageSize
	}
	m.inflight = true
	return tea.Batch(m.fetch(m.next, limit, false), m.tick())
}

// gotPage adds a page of the current load.
func (m Model) gotPage(msg pageMsg) (Model, tea.Cmd) {
	m.inflight = false
	if msg.err != nil {
		m.err, m.errFirst = msg.err, msg.first
		if msg.first {
			m.resetFolder()
		}
		// What the user asked for (G, a name to land on) resumes with
		// the retry.
		m.scrollTo(-1)
		return m, nil
	}
	var cmds []tea.Cmd
	if msg.first {
		if m.stale {
			m.resetFolder()
		}
		if m.opening {
			m.opening = false
			src, dir := m.src.Title(), m.dir
			cmds = append(cmds, func() tea.Msg { return OpenedMsg{Source: src, Dir: dir} })
		}
	}
	m.err = nil
	// An empty page that does not move the cursor would be asked for
	// again forever: take it as the end.
	stuck := !msg.first && len(msg.res.Items) == 0 && msg.res.Cursor == m.next
	m.next = msg.res.Cursor
	m.done = m.next == "" || stuck
	m.appendItems(msg.res.Items)
	m.place()
	if m.done {
		m.pending = nil
	}
	cmds = append(cmds, m.maybeFetch())
	return m, tea.Batch(cmds...)
}

// place puts the cursor where a navigation or reload wants it, once the
// entry is loaded (or known to be missing), and follows G to the end.
func (m *Model) place() {
	if m.wantPath != "" {
		for pos, i := range m.vis {
			if m.items[i].Path == m.wantPath {
				m.cur = pos
				m.scrollTo(m.wantRow)
				m.wantPath = ""
				return
			}
		}
		// Pages come in name order: once past the name, it is not coming.
		passed := len(m.items) > 0 && m.items[len(m.items)-1].Path > m.wantPath
		if m.done || passed {
			m.wantPath = ""
			if m.wantCur >= 0 && len(m.vis) > 0 {
				m.cur = min(m.wantCur, len(m.vis)-1)
				m.scrollTo(m.wantRow)
			}
		}
		return
	}
	if m.wantEnd && len(m.vis) > 0 {
		m.cur = len(m.vis) - 1
		m.scrollTo(-1)
		if m.done {
			m.wantEnd = false
		}
	}
}

// tick starts the spinner unless it is already running.
func (m *Model) tick() tea.Cmd {
	if m.spinning {
		return nil
	}
	m.spinning = true
	return m.spin.Tick
}
