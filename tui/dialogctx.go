package tui

import "context"

// dialogCtx is the context of what the open dialog starts (a count of
// what it asks about): it ends when the dialog closes, so that a count of
// a big tree does not go on after the answer.
func (a *App) dialogCtx() context.Context {
	if a.dlgStop != nil {
		a.dlgStop()
	}
	ctx, cancel := context.WithCancel(a.o.Ctx)
	a.dlgStop = cancel
	return ctx
}

// closeDialog closes the app's dialog and ends what it started.
func (a *App) closeDialog() {
	a.dlg = nil
	if a.dlgStop != nil {
		a.dlgStop()
		a.dlgStop = nil
	}
}
