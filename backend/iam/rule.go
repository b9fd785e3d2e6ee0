package iam

// HomeRule is Strata's access rule until policies arrive: an administrator
// may do anything but delete or move the root folder; any other user may
// work within their home folder, /home/<name>, but not change the home
// folder itself, and may manage what they own (their trash, upload
// sessions and tokens) and see their own user. Everything else is denied
// alike, so that nothing outside a user's reach can be told to exist.
type HomeRule struct{}

var _ Decider = HomeRule{}

// The rule's reasons.
const (
	reasonAdmin    = "admins may do anything"
	reasonRoot     = "the root folder cannot be deleted or moved"
	reasonHome     = "users work within their home folder"
	reasonHomeSelf = "the home folder itself cannot be changed"
	reasonOwner    = "users manage what they own"
	reasonAdminOp  = "only admins may do this"
)

// Decide implements Decider. A user share's grant allows what the rule
// does not (the rule has no Deny).
func (HomeRule) Decide(pr Principal, act Action, res Resource, req Request) Decision {
	if !pr.Authenticated() {
		return Decision{Reason: "no principal"}
	}
	if res.Kind == KindPath {
		d := decidePath(pr, act, res)
		if !d.Allowed && req.Grant != nil {
			return (&PolicySet{}).Evaluate(pr, act, res, req)
		}
		return d
	}
	if pr.Admin {
		return Decision{Allowed: true, Reason: reasonAdmin}
	}
	switch act {
	case ManageTrash, ManageUploads, ManageTokens, ManageJobs, GetUser, ManagePassword, ManageShares:
		if res.Owner == pr.Name && res.Kind != KindSystem {
			return Decision{Allowed: true, Reason: reasonOwner}
		}
	}
	if act == ReadAudit && res.Kind == KindUserR && res.Owner == pr.Name {
		return Decision{Allowed: true, Reason: reasonOwner}
	}
	return Decision{Reason: reasonAdminOp}
}

func decidePath(pr Principal, act Action, res Resource) Decision {
	changesItself := act == DeleteFile || act == MoveFile
	if pr.Admin {
		if res.Path.IsRoot() && changesItself {
			return Decision{Reason: reasonRoot}
		}
		return Decision{Allowed: true, Reason: reasonAdmin}
	}
	home := pr.Home()
	if !res.Path.Within(home) {
		return Decision{Reason: reasonHome}
	}
	if res.Path == home {
		switch act {
		case DeleteFile, MoveFile, PutFile, CreateFolder, CopyFile:
			return Decision{Reason: reasonHomeSelf}
		}
	}
	return Decision{Allowed: true, Reason: reasonHome}
}
