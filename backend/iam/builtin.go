package iam

// The built-in policies, as documents an admin can read and copy. They
// say in policy what HomeRule said in code, so a store moved to policies
// decides as before.
const (
	// HomePolicyName is the default policy of a new user.
	HomePolicyName = "home"
	// HomePolicyDocument lets a user work within their home folder (but
	// not delete, move, replace or copy onto the home folder itself),
	// manage what they own (trash, upload sessions, tokens and jobs), see
	// their own user, change their own password and read their own audit
	// records.
	HomePolicyDocument = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "HomeContent",
      "Effect": "Allow",
      "Action": "strata:*",
      "Resource": "/home/${strata:username}/*"
    },
    {
      "Sid": "HomeFolder",
      "Effect": "Allow",
      "NotAction": [
        "strata:DeleteFile",
        "strata:MoveFile",
        "strata:PutFile",
        "strata:CreateFolder",
        "strata:CopyFile"
      ],
      "Resource": "/home/${strata:username}"
    },
    {
      "Sid": "OwnThings",
      "Effect": "Allow",
      "Action": [
        "strata:ManageTrash",
        "strata:ManageUploads",
        "strata:ManageTokens",
        "strata:ManageJobs",
        "strata:GetUser",
        "strata:ManagePassword",
        "strata:ManageShares"
      ],
      "Resource": [
        "strata:user/${strata:username}",
        "strata:trash/${strata:username}/*",
        "strata:upload/${strata:username}/*",
        "strata:token/${strata:username}/*",
        "strata:job/${strata:username}/*",
        "strata:link/${strata:username}/*"
      ]
    },
    {
      "Sid": "OwnAudit",
      "Effect": "Allow",
      "Action": "strata:ReadAudit",
      "Resource": "strata:user/${strata:username}"
    }
  ]
}
`

	// AdminPolicyName is the policy of the built-in admins group.
	AdminPolicyName = "admin"
	// AdminPolicyDocument allows everything but deleting or moving the
	// root folder.
	AdminPolicyDocument = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Everything",
      "Effect": "Allow",
      "Action": "*",
      "Resource": "*"
    },
    {
      "Sid": "KeepTheRoot",
      "Effect": "Deny",
      "Action": ["strata:DeleteFile", "strata:MoveFile"],
      "Resource": "/"
    }
  ]
}
`
)

// HomePolicy is HomePolicyDocument compiled.
func HomePolicy() *Policy { return MustParse(HomePolicyName, HomePolicyDocument) }

// AdminPolicy is AdminPolicyDocument compiled.
func AdminPolicy() *Policy { return MustParse(AdminPolicyName, AdminPolicyDocument) }
