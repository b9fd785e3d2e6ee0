package iam

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/strata-storage/strata/internal/clip"
)

// conditions compiles a Condition block: {operator: {key: value or
// [values]}}. Its operators and keys are ANDed, each key's values ORed
// (NORed for a negated operator).
func (p *parser) conditions(v *jsonValue, ptr string) ([]cond, error) {
	if v.kind != jsonObject {
		return nil, p.fail(v.off, ptr, "Condition is an object of operators, not %v", v.kind)
	}
	if len(v.members) == 0 {
		return nil, p.fail(v.off, ptr, "Condition is empty")
	}
	var out []cond
	for _, om := range v.members {
		optr := ptr + "/" + pointerToken(om.key)
		op, qual, ifExists, err := parseOperator(om.key)
		if err != nil {
			return nil, p.fail(om.keyOff, optr, "%v", err)
		}
		info := operators[op]
		if om.value.kind != jsonObject {
			return nil, p.fail(om.value.off, optr, "%s takes an object of condition keys, not %v", om.key, om.value.kind)
		}
		if len(om.value.members) == 0 {
			return nil, p.fail(om.value.off, optr, "%s names no condition key", om.key)
		}
		for _, km := range om.value.members {
			kptr := optr + "/" + pointerToken(km.key)
			key, typ, ok := lookupKey(km.key)
			if !ok {
				return nil, p.fail(km.keyOff, kptr, "unknown condition key %q: the keys are %s", clip.Text(km.key), keyNames())
			}
			if op != opNull && typ != info.typ {
				return nil, p.fail(km.keyOff, kptr, "%s compares %s values; %s is %s (use %s)", info.name, info.typ, condKeys[key].name, article(typ), operatorsFor(typ))
			}
			c := cond{op: op, key: key, qual: qual, ifExists: ifExists, negated: info.negated, cmp: info.cmp}
			items, err := p.condValues(km.value, kptr)
			if err != nil {
				return nil, err
			}
			for _, it := range items {
				if err := c.addValue(it.s, typ); err != nil {
					return nil, p.fail(it.off, it.ptr, "%s %s: %v", info.name, condKeys[key].name, err)
				}
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// condValues reads a key's value: one value or a non-empty list; a value
// is a string, a number or true/false (AWS takes all three).
func (p *parser) condValues(v *jsonValue, ptr string) ([]strItem, error) {
	scalar := func(e *jsonValue, ptr string) (strItem, error) {
		switch e.kind {
		case jsonString, jsonNumber, jsonBool:
			return strItem{e.text, e.off, ptr}, nil
		}
		return strItem{}, p.fail(e.off, ptr, "a condition value is a string, a number or true/false, not %v", e.kind)
	}
	if v.kind != jsonArray {
		it, err := scalar(v, ptr)
		return []strItem{it}, err
	}
	if len(v.elems) == 0 {
		return nil, p.fail(v.off, ptr, "the list of values is empty")
	}
	out := make([]strItem, len(v.elems))
	for i, e := range v.elems {
		it, err := scalar(e, ptr+"/"+strconv.Itoa(i))
		if err != nil {
			return nil, err
		}
		out[i] = it
	}
	return out, nil
}

// addValue compiles one of the policy's values for the condition.
func (c *cond) addValue(s string, typ condType) error {
	if c.op == opNull {
		b, err := parseBool(s)
		if err != nil {
			return fmt.Errorf("%w (true: the key is absent, false: it is present)", err)
		}
		c.bools = append(c.bools, b)
		return nil
	}
	switch typ {
	case typeString:
		like := c.op == opStringLike || c.op == opStringNotLike
		pat, err := compilePattern(s, like)
		if err != nil {
			return err
		}
		if c.key == keyVia && !like && !pat.hasVariables() && !knownVia(s) {
			return fmt.Errorf("%q is not an entry point: strata:Via is one of %s", clip.Text(s), strings.Join(viaValues, ", "))
		}
		c.strs = append(c.strs, pat)
	case typeNumeric:
		n, err := parseNumber(s)
		if err != nil {
			return err
		}
		c.nums = append(c.nums, n)
	case typeDate:
		t, err := parseDate(s)
		if err != nil {
			return err
		}
		c.times = append(c.times, t)
	case typeBool:
		b, err := parseBool(s)
		if err != nil {
			return err
		}
		c.bools = append(c.bools, b)
	case typeIP:
		n, err := parseNet(s)
		if err != nil {
			return err
		}
		c.nets = append(c.nets, n)
	}
	return nil
}

func knownVia(s string) bool {
	for _, v := range viaValues {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func keyNames() string {
	names := make([]string, len(condKeys))
	for i, k := range condKeys {
		names[i] = k.name
	}
	return strings.Join(names, ", ")
}

func article(t condType) string {
	if t == typeIP {
		return "an " + t.String()
	}
	return "a " + t.String()
}

// operatorsFor names the operator family of a type, for errors.
func operatorsFor(t condType) string {
	switch t {
	case typeNumeric:
		return "Numeric… operators"
	case typeDate:
		return "Date… operators"
	case typeBool:
		return "Bool"
	case typeIP:
		return "IpAddress or NotIpAddress"
	}
	return "String… operators"
}
