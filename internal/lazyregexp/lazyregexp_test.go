package lazyregexp_test

import (
	"sync"
	"testing"

	"github.com/strata-storage/strata/internal/lazyregexp"
)

func TestNew(t *testing.T) {
	re := lazyregexp.New(`^[a-z]{2,4}$`)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if !re().MatchString("abc") || re().MatchString("abcde") {
				t.Error("wrong match")
			}
		})
	}
	wg.Wait()
	if re() != re() {
		t.Error("compiled twice")
	}
}

func TestNewInvalidPanicsOnUse(t *testing.T) {
	re := lazyregexp.New(`(`) // no panic yet
	defer func() {
		if recover() == nil {
			t.Error("an invalid expression compiled")
		}
	}()
	re()
}
