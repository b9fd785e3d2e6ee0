package shareview

import (
	"errors"
	"image"
	"image/color"
	"strings"
	"testing"

	qr "github.com/piglig/go-qr"
)

// decodeLines reads half-block lines back into an image and decodes it:
// what is drawn is a code a scanner reads as the text.
func decodeLines(t *testing.T, lines []string) string {
	t.Helper()
	const px = 4
	w := len([]rune(lines[0]))
	img := image.NewGray(image.Rect(0, 0, (w+8)*px, (2*len(lines)+8)*px))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	set := func(x, y int) {
		for dy := range px {
			for dx := range px {
				img.SetGray((x+4)*px+dx, (y+4)*px+dy, color.Gray{})
			}
		}
	}
	for row, l := range lines {
		for x, r := range []rune(l) {
			if r == '█' || r == '▀' {
				set(x, 2*row)
			}
			if r == '█' || r == '▄' {
				set(x, 2*row+1)
			}
		}
	}
	got, err := qr.Decode(img)
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, strings.Join(lines, "\n"))
	}
	return got
}

func TestQRLines(t *testing.T) {
	url := "https://files.example.com/s/AbCdEfGhIjKlMnOpQrStUvWxYz012345"
	lines, err := QRLines(url, 80, 20)
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeLines(t, lines); got != url {
		t.Errorf("decoded %q, want %q", got, url)
	}
	// A share URL fits an 80×24 terminal beside its text.
	if w, h := len([]rune(lines[0])), len(lines); w > 40 || h > 19 {
		t.Errorf("the code is %d×%d", w, h)
	}
	if _, err := QRLines(url, 30, 20); !errors.Is(err, ErrTooSmall) {
		t.Errorf("narrow window: %v", err)
	}
	if _, err := QRLines(url, 80, 10); !errors.Is(err, ErrTooSmall) {
		t.Errorf("short window: %v", err)
	}
}
