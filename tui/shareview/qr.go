package shareview

import (
	"errors"
	"strings"

	qr "github.com/piglig/go-qr"
)

// quiet is the light margin around the code, in modules: scanners need
// one; the standard's 4 would not fit an 80×24 terminal with a URL's
// version 4 code, and 2 scans on phones.
const quiet = 2

// ErrTooSmall: the window cannot hold the code.
var ErrTooSmall = errors.New("the window is too small for the QR code")

// QRLines draws text as a QR code with half blocks (two modules a
// line), dark modules as full-block ink: the caller paints the lines dark
// on light, as a code must be. It fails with ErrTooSmall when the code
// needs more than w columns or h lines.
func QRLines(text string, w, h int) ([]string, error) {
	code, err := qr.EncodeText(text, qr.Low)
	if err != nil {
		return nil, err
	}
	n := code.Size() + 2*quiet
	if n > w || (n+1)/2 > h {
		return nil, ErrTooSmall
	}
	dark := func(x, y int) bool {
		x, y = x-quiet, y-quiet
		return x >= 0 && y >= 0 && x < code.Size() && y < code.Size() && code.Module(x, y)
	}
	lines := make([]string, 0, (n+1)/2)
	for y := 0; y < n; y += 2 {
		var b strings.Builder
		for x := range n {
			switch top, bottom := dark(x, y), dark(x, y+1); {
			case top && bottom:
				b.WriteRune('█')
			case top:
				b.WriteRune('▀')
			case bottom:
				b.WriteRune('▄')
			default:
				b.WriteRune(' ')
			}
		}
		lines = append(lines, b.String())
	}
	return lines, nil
}
