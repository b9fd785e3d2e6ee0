package background

import (
	"context"
	"errors"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

type msg struct{ Update[int] }

func wrap(u Update[int]) tea.Msg { return msg{u} }

// The reader gets the latest report each time it asks, never a stale one,
// and the result once done; the work never waits for the reader.
func TestReportsCoalesce(t *testing.T) {
	step := make(chan struct{})
	reported := make(chan struct{})
	work := func(ctx context.Context, report func(int)) (int, error) {
		for i := 1; i <= 3; i++ {
			report(i)
		}
		reported <- struct{}{}
		<-step
		report(4)
		reported <- struct{}{}
		<-step
		return 10, nil
	}
	cmd := Start(context.Background(), work, wrap)
	first := make(chan tea.Msg)
	go func() { first <- cmd() }()
	<-reported
	u := (<-first).(msg)
	// The first read may come before or after the work's reports 2 and 3,
	// but never goes back.
	if u.Done || u.Value < 1 {
		t.Fatalf("first: %+v", u)
	}
	if u.Value < 3 {
		u = u.Next()().(msg)
	}
	if u.Value != 3 || u.Done {
		t.Fatalf("reports 1 to 3 did not coalesce into 3: %+v", u)
	}
	step <- struct{}{}
	<-reported
	u = u.Next()().(msg)
	if u.Value != 4 || u.Done {
		t.Fatalf("got %+v, want 4", u)
	}
	step <- struct{}{}
	u = u.Next()().(msg)
	if !u.Done || u.Value != 10 || u.Err != nil || u.Next() != nil {
		t.Fatalf("end: %+v", u)
	}
}

// A reader that stops reading leaves nothing blocked: the work ends with
// its context.
func TestAbandoned(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ended := make(chan error)
	work := func(ctx context.Context, report func(int)) (int, error) {
		for i := 0; ctx.Err() == nil; i++ {
			report(i)
		}
		ended <- ctx.Err()
		return 0, ctx.Err()
	}
	u := Start(ctx, work, wrap)().(msg)
	if u.Done {
		t.Fatalf("done before the cancel: %+v", u)
	}
	cancel()
	if err := <-ended; !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}
