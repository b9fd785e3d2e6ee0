package iam

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/strata-storage/strata/internal/clip"
)

// A pattern is a resource or a condition value compiled once: literal
// text, policy variables (resolved from the principal at each decision,
// never by rewriting the pattern) and, where wildcards apply, * (any run
// of characters, "/" included, as in an AWS ARN) and ? (any one
// character). Matching walks the tokens with no allocation.
type pattern struct {
	toks []ptoken
	// any: the pattern is a lone "*", which matches everything.
	any bool
}

type ptokenKind uint8

const (
	tokLiteral  ptokenKind = iota
	tokStar                // *: any run of characters
	tokOne                 // ?: any one character
	tokUsername            // ${strata:username}
	tokUserID              // ${strata:userid}
)

type ptoken struct {
	kind ptokenKind
	lit  string
}

// The policy variables, by their lower-case names (variable names, like
// condition keys, are not case-sensitive).
var variableTokens = map[string]ptokenKind{
	"strata:username": tokUsername,
	"strata:userid":   tokUserID,
}

// varEscapes are AWS's escapes for the characters that would otherwise
// be wildcards or start a variable.
var varEscapes = map[string]string{"*": "*", "?": "?", "$": "$"}

// vars are the values of the policy variables for one decision.
type vars struct {
	username, userid string
}

func (v *vars) value(k ptokenKind) string {
	if k == tokUsername {
		return v.username
	}
	return v.userid
}

// compilePattern compiles s; wildcards says whether * and ? are
// wildcards (resources, StringLike) or plain characters (StringEquals).
// The error names what is wrong; the caller adds where.
func compilePattern(s string, wildcards bool) (pattern, error) {
	if wildcards && s == "*" {
		return pattern{any: true, toks: []ptoken{{kind: tokStar}}}, nil
	}
	var p pattern
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p.toks = append(p.toks, ptoken{kind: tokLiteral, lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '$' && strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return pattern{}, fmt.Errorf("unclosed policy variable %q", clip.Text(s[i:]))
			}
			name := s[i+2 : i+end]
			if esc, ok := varEscapes[name]; ok {
				lit.WriteString(esc)
			} else if k, ok := variableTokens[strings.ToLower(name)]; ok {
				flush()
				p.toks = append(p.toks, ptoken{kind: k})
			} else {
				return pattern{}, fmt.Errorf("unknown policy variable %q: the variables are ${strata:username} and ${strata:userid}, and ${*}, ${?} and ${$} stand for those characters", clip.Text(s[i:i+end+1]))
			}
			i += end + 1
		case wildcards && c == '*':
			flush()
			// Runs of stars are one star.
			if n := len(p.toks); n == 0 || p.toks[n-1].kind != tokStar {
				p.toks = append(p.toks, ptoken{kind: tokStar})
			}
			i++
		case wildcards && c == '?':
			flush()
			p.toks = append(p.toks, ptoken{kind: tokOne})
			i++
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return p, nil
}

// hasVariables reports whether the pattern names a policy variable.
func (p *pattern) hasVariables() bool {
	for _, t := range p.toks {
		if t.kind == tokUsername || t.kind == tokUserID {
			return true
		}
	}
	return false
}

// match reports whether s matches the pattern, with v's values for the
// variables; fold compares letters without regard to case (Unicode
// simple folding, as strings.EqualFold).
//
// It is the classic wildcard walk that remembers only the last star:
// when a later token fails, the last star takes one more character and
// the walk resumes after it. Earlier stars never need to grow, because
// anything a later growth could match the last star can absorb.
func (p *pattern) match(s string, v *vars, fold bool) bool {
	if p.any {
		return true
	}
	toks := p.toks
	ti, si := 0, 0
	starTi, starSi := -1, 0
	for {
		if ti < len(toks) {
			switch t := &toks[ti]; t.kind {
			case tokStar:
				if ti == len(toks)-1 {
					return true // a last star takes the rest
				}
				starTi, starSi = ti, si
				ti++
				continue
			case tokOne:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					ti++
					continue
				}
			default:
				lit := t.lit
				if t.kind != tokLiteral {
					lit = v.value(t.kind)
				}
				if n, ok := hasPrefix(s[si:], lit, fold); ok {
					si += n
					ti++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		// A mismatch: the last star takes one more character, or, when a
		// literal follows it, as many as bring the next place that
		// literal starts (it starts with no continuation byte of UTF-8,
		// so it cannot start inside a character).
		if starTi < 0 || starSi >= len(s) {
			return false
		}
		if next := &toks[starTi+1]; next.kind == tokLiteral && !fold {
			i := strings.Index(s[starSi+1:], next.lit)
			if i < 0 {
				return false
			}
			starSi += 1 + i
		} else {
			_, n := utf8.DecodeRuneInString(s[starSi:])
			starSi += n
		}
		si, ti = starSi, starTi+1
	}
}

// hasPrefix reports whether s starts with prefix and how many bytes of s
// that prefix covers (with folding, a letter's cases may differ in
// length).
func hasPrefix(s, prefix string, fold bool) (int, bool) {
	if !fold {
		return len(prefix), strings.HasPrefix(s, prefix)
	}
	i := 0
	for _, pr := range prefix {
		if i >= len(s) {
			return 0, false
		}
		sr, n := utf8.DecodeRuneInString(s[i:])
		if sr != pr && !foldEqual(sr, pr) {
			return 0, false
		}
		i += n
	}
	return i, true
}

// foldEqual reports whether two runes are equal under simple folding.
func foldEqual(a, b rune) bool {
	for f := unicode.SimpleFold(a); f != a; f = unicode.SimpleFold(f) {
		if f == b {
			return true
		}
	}
	return false
}
