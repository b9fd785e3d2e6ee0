package iam

import (
	"crypto/sha256"
	"encoding/hex"
)

// EarlierBuiltIn reports whether doc is exactly a document an earlier
// version of Strata stored as the built-in policy name: a store made by
// one keeps the document it was given, and identity upgrades it to this
// version's while it is still one of these (never an administrator's
// edit). They are known by their SHA-256 (the tests rebuild each from
// HomePolicyDocument and check it is listed).
func EarlierBuiltIn(name, doc string) bool {
	if name != HomePolicyName {
		return false // the admin policy never changed
	}
	h := sha256.Sum256([]byte(doc))
	switch hex.EncodeToString(h[:]) {
	case
		// The first home policy, with policies.
		"3ae69c054e085b3b5d8bf26f5abf08eb2ecc59c02bfd620a93f37655f7d22d51",
		// With strata:ManagePassword.
		"4910941578a8f658d0d6b9885cf5aa8c2804af1bdc79fb75476ef186d5af68b2",
		// With OwnAudit (strata:ReadAudit), before share links.
		"57fec15bd43506c6c7a6398b52abf5e45e5b3bcd71f128c822063e25e1f180a7",
		// With strata:ManageShares, before OwnAudit (the links' branch).
		"4a33580f8c78bde01031d9b8b2dfc357f15ce45c186a8a9ced3569537acdab94":
		return true
	}
	return false
}
