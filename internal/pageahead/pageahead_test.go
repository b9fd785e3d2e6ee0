package pageahead_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/strata-storage/strata/internal/pageahead"
)

// listing is a fake paged source of n pages; page i is "p<i>", and its
// cursor the page's number. fail, when set, is the page whose fetch fails.
type listing struct {
	n    int
	fail int

	mu      sync.Mutex
	fetched []string // the cursors asked for, in order
	calls   chan int // each fetch's page number, when set
	hold    chan struct{}
	held    int // the page whose fetch waits on hold (or ctx)
	stopped chan error
}

var errBroken = errors.New("broken page")

func (l *listing) fetch(ctx context.Context, cursor string) (string, string, error) {
	l.mu.Lock()
	l.fetched = append(l.fetched, cursor)
	l.mu.Unlock()
	i := 0
	if cursor != "" {
		var err error
		if i, err = strconv.Atoi(cursor); err != nil {
			return "", "", err
		}
	}
	if l.calls != nil {
		l.calls <- i
	}
	if l.hold != nil && i == l.held {
		select {
		case <-l.hold:
		case <-ctx.Done():
			l.stopped <- ctx.Err()
			return "", "", ctx.Err()
		}
	}
	if l.fail > 0 && i == l.fail {
		return "", "", errBroken
	}
	next := ""
	if i+1 < l.n {
		next = strconv.Itoa(i + 1)
	}
	return fmt.Sprintf("p%d", i), next, nil
}

func collect(t *testing.T, seq func(func(string, error) bool)) ([]string, error) {
	t.Helper()
	var pages []string
	for p, err := range seq {
		if err != nil {
			return pages, err
		}
		pages = append(pages, p)
	}
	return pages, nil
}

func TestAllPagesInOrder(t *testing.T) {
	for _, ahead := range []int{0, 1, 3, 50} {
		l := &listing{n: 7}
		pages, err := collect(t, pageahead.Pages(context.Background(), "", ahead, l.fetch))
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(pages) != "[p0 p1 p2 p3 p4 p5 p6]" {
			t.Errorf("ahead %d: pages %v", ahead, pages)
		}
		if fmt.Sprint(l.fetched) != "[ 1 2 3 4 5 6]" {
			t.Errorf("ahead %d: cursors asked %q", ahead, l.fetched)
		}
	}
}

func TestStartsAtCursor(t *testing.T) {
	l := &listing{n: 4}
	pages, err := collect(t, pageahead.Pages(context.Background(), "2", 1, l.fetch))
	if err != nil || fmt.Sprint(pages) != "[p2 p3]" {
		t.Fatalf("pages %v, %v", pages, err)
	}
}

// The next page is fetched while the consumer still holds the previous one:
// the consumer waits, inside its loop body, for the fetch of page 1.
func TestFetchesWhileConsumerWorks(t *testing.T) {
	l := &listing{n: 3, calls: make(chan int, 10)}
	var pages []string
	for p, err := range pageahead.Pages(context.Background(), "", 1, l.fetch) {
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, p)
		if p != "p0" {
			continue
		}
		if got := <-l.calls; got != 0 {
			t.Fatalf("first fetch of page %d", got)
		}
		select {
		case got := <-l.calls:
			if got != 1 {
				t.Fatalf("second fetch of page %d", got)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("page 1 was not fetched while page 0 was being consumed")
		}
	}
	if fmt.Sprint(pages) != "[p0 p1 p2]" {
		t.Fatalf("pages %v", pages)
	}
}

func TestErrorMidway(t *testing.T) {
	l := &listing{n: 6, fail: 3}
	pages, err := collect(t, pageahead.Pages(context.Background(), "", 2, l.fetch))
	if !errors.Is(err, errBroken) {
		t.Fatalf("error %v", err)
	}
	if fmt.Sprint(pages) != "[p0 p1 p2]" {
		t.Fatalf("pages before the error %v", pages)
	}
	if fmt.Sprint(l.fetched) != "[ 1 2 3]" {
		t.Fatalf("fetched after the error: %q", l.fetched)
	}
}

// Leaving the loop cancels the fetch in flight, and Pages returns only
// once the fetching stopped; nothing more is fetched.
func TestBreakStopsFetching(t *testing.T) {
	l := &listing{n: 100, hold: make(chan struct{}), held: 2, stopped: make(chan error, 1)}
	for p, err := range pageahead.Pages(context.Background(), "", 1, l.fetch) {
		if err != nil {
			t.Fatal(err)
		}
		if p == "p1" {
			break
		}
	}
	select {
	case err := <-l.stopped:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("fetch in flight ended with %v", err)
		}
	default:
		t.Fatal("Pages returned before the fetch in flight was cancelled")
	}
	if fmt.Sprint(l.fetched) != "[ 1 2]" {
		t.Fatalf("fetched %q", l.fetched)
	}
}

func TestCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := &listing{n: 100, hold: make(chan struct{}), held: 2, stopped: make(chan error, 1)}
	var pages []string
	var last error
	for p, err := range pageahead.Pages(ctx, "", 1, l.fetch) {
		if err != nil {
			last = err
			continue
		}
		pages = append(pages, p)
		if p == "p1" {
			cancel()
		}
	}
	if !errors.Is(last, context.Canceled) {
		t.Fatalf("last %v", last)
	}
	if fmt.Sprint(pages) != "[p0 p1]" {
		t.Fatalf("pages %v", pages)
	}
	if err := <-l.stopped; !errors.Is(err, context.Canceled) {
		t.Fatalf("fetch in flight ended with %v", err)
	}
}

// A consumer that stops at the error it is given does not see more.
func TestNothingAfterError(t *testing.T) {
	l := &listing{n: 6, fail: 1}
	n := 0
	for _, err := range pageahead.Pages(context.Background(), "", 4, l.fetch) {
		n++
		if err != nil && n != 2 {
			t.Fatalf("error as item %d", n)
		}
	}
	if n != 2 {
		t.Fatalf("%d items", n)
	}
}
