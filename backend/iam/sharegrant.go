package iam

import "sync"

// What a user share allows its recipient, as policies: the core passes
// one as Request.Grant when it decides on a path under /shared, so that
// the recipient's own Deny statements and session policy bound it like
// any other Allow. Their resource is "*": the core adds a grant only to
// a decision on the share it belongs to, and decides the same action on
// the real path with the owner's policies too.
const (
	// ShareViewDocument lets a recipient list /shared and the folders of
	// the owners who share with them.
	ShareViewDocument = `{"Version": "2012-10-17", "Statement": [{"Sid": "SharedWithMe", "Effect": "Allow",
  "Action": ["strata:ListFolder", "strata:GetFile"], "Resource": "*"}]}`
	// ShareReadDocument is a read-only share.
	ShareReadDocument = `{"Version": "2012-10-17", "Statement": [{"Sid": "ShareRead", "Effect": "Allow",
  "Action": ["strata:ListFolder", "strata:GetFile", "strata:ListVersions", "strata:LeaveShare"], "Resource": "*"}]}`
	// ShareWriteDocument is a read-write share, below its shared entry.
	ShareWriteDocument = `{"Version": "2012-10-17", "Statement": [{"Sid": "ShareWrite", "Effect": "Allow",
  "Action": ["strata:ListFolder", "strata:GetFile", "strata:ListVersions", "strata:PutFile", "strata:CreateFolder",
    "strata:DeleteFile", "strata:MoveFile", "strata:CopyFile", "strata:RestoreVersion"], "Resource": "*"}]}`
	// ShareAnyDocument is what any share may grant: a decision with it
	// comes before the share is looked up, so that the principal's own
	// Deny statements and session policy refuse before anything is read.
	ShareAnyDocument = `{"Version": "2012-10-17", "Statement": [{"Sid": "ShareAny", "Effect": "Allow",
  "Action": ["strata:ListFolder", "strata:GetFile", "strata:ListVersions", "strata:PutFile", "strata:CreateFolder",
    "strata:DeleteFile", "strata:MoveFile", "strata:CopyFile", "strata:RestoreVersion", "strata:LeaveShare"], "Resource": "*"}]}`
	// ShareWriteRootDocument is a read-write share on its shared entry
	// itself: it may be changed (a shared file gets new versions), not
	// deleted or moved away, which is the owner's to do.
	ShareWriteRootDocument = `{"Version": "2012-10-17", "Statement": [{"Sid": "ShareWriteRoot", "Effect": "Allow",
  "Action": ["strata:ListFolder", "strata:GetFile", "strata:ListVersions", "strata:PutFile", "strata:CreateFolder",
    "strata:CopyFile", "strata:RestoreVersion", "strata:LeaveShare"], "Resource": "*"}]}`
)

// ShareGrants are the grant policies, compiled once.
type ShareGrants struct {
	View, Any, Read, Write, WriteRoot *Policy
}

// Grants returns the compiled grant policies.
var Grants = sync.OnceValue(func() ShareGrants {
	return ShareGrants{
		View:      MustParse("share-view", ShareViewDocument),
		Any:       MustParse("share-any", ShareAnyDocument),
		Read:      MustParse("share-read", ShareReadDocument),
		Write:     MustParse("share-write", ShareWriteDocument),
		WriteRoot: MustParse("share-write-root", ShareWriteRootDocument),
	}
})

// For is the grant of a share on one of its paths: read-only or
// read-write, on the shared entry itself (root) or below it.
func (g ShareGrants) For(write, root bool) *Policy {
	switch {
	case !write:
		return g.Read
	case root:
		return g.WriteRoot
	}
	return g.Write
}

// Allows reports whether p has an Allow for act (whatever the resource):
// what a share's mode permits at all, before any policy is asked.
func (p *Policy) Allows(act Action) bool {
	i, ok := actionIndex[act]
	if !ok {
		return false
	}
	for k := range p.stmts {
		if !p.stmts[k].deny && p.stmts[k].actions.has(i) {
			return true
		}
	}
	return false
}
