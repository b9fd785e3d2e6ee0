// Package pageahead reads a paged listing ahead of whoever consumes it: the
// next page is already on its way (or here) while the previous one is being
// printed or shown, so a listing of many pages costs about the time of its
// slower side, not the sum of fetching and printing.
//
// Pages are fetched one after the other (each names the next with its
// cursor) by one goroutine, at most Ahead pages before the consumer; they
// come out in the order fetched, and an error ends the listing after the
// pages before it.
package pageahead

import (
	"context"
	"iter"
)

// Fetch reads the page that cursor names ("" for the first): the page and
// the cursor of the next one, "" after the last.
type Fetch[P any] func(ctx context.Context, cursor string) (page P, next string, err error)

// Pages yields the pages of a listing in order, starting at cursor, with up
// to ahead pages (at least one) fetched before they are asked for. A failed
// fetch is yielded last, with the zero page. Stopping early (break) or
// cancelling ctx stops the fetching: Pages returns only once its goroutine
// has, and a fetch in flight sees its context cancelled.
func Pages[P any](ctx context.Context, cursor string, ahead int, fetch Fetch[P]) iter.Seq2[P, error] {
	return func(yield func(P, error) bool) {
		parent := ctx
		ctx, cancel := context.WithCancel(ctx)
		type result struct {
			page P
			err  error
		}
		out := make(chan result, max(ahead, 1)-1)
		done := make(chan struct{})
		// ended says the goroutine handed on its last page or its error;
		// written before out is closed, so read safely once it is.
		ended := false
		defer func() {
			cancel()
			<-done
		}()
		go func() {
			defer close(done)
			defer close(out)
			for {
				page, next, err := fetch(ctx, cursor)
				if err == nil {
					// A page fetched after the consumer left is not
					// handed on, even though the fetch succeeded.
					err = ctx.Err()
				}
				select {
				case out <- result{page, err}:
				case <-ctx.Done():
					return
				}
				if err != nil || next == "" {
					ended = true
					return
				}
				cursor = next
			}
		}()
		for r := range out {
			if r.err != nil {
				var zero P
				yield(zero, r.err)
				return
			}
			if !yield(r.page, nil) {
				return
			}
		}
		if !ended {
			// Cancelled between two pages: the listing is not complete,
			// and must not look it.
			var zero P
			yield(zero, context.Cause(parent))
		}
	}
}
