// Package dialog holds the TUI's modal dialogs — Confirm, Input and
// Choice, all one Model so that the parent keeps a single "open dialog"
// field — and the counting the delete confirmation needs.
//
// A dialog never closes itself: it emits ConfirmedMsg, InputMsg or
// ChoiceMsg carrying the ID the caller gave it, and the parent drops it (or
// keeps it open and calls SetError when the action it asked for failed).
// After answering, a dialog ignores keys until SetError, so a key repeat
// cannot run an action twice. View returns the box alone; the parent
// centres it over its screen with Overlay or lipgloss.Place.
//
// Everything a dialog draws goes through Sanitize: questions name files
// that other users named.
package dialog
