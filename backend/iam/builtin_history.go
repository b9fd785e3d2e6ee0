package iam

// The home policy as earlier versions of Strata stored it. A store made by
// one keeps the document it was given; identity upgrades it to
// HomePolicyDocument when it is still exactly one of these (never an
// administrator's edit).
const (
	// homeDocPolicies: the first, with policies.
	homeDocPolicies = `{
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
        "strata:GetUser"
      ],
      "Resource": [
        "strata:user/${strata:username}",
        "strata:trash/${strata:username}/*",
        "strata:upload/${strata:username}/*",
        "strata:token/${strata:username}/*",
        "strata:job/${strata:username}/*"
      ]
    }
  ]
}
`
	// homeDocPassword: with ManagePassword.
	homeDocPassword = `{
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
        "strata:ManagePassword"
      ],
      "Resource": [
        "strata:user/${strata:username}",
        "strata:trash/${strata:username}/*",
        "strata:upload/${strata:username}/*",
        "strata:token/${strata:username}/*",
        "strata:job/${strata:username}/*"
      ]
    }
  ]
}
`
	// homeDocAudit: with OwnAudit (ReadAudit), before links.
	homeDocAudit = `{
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
        "strata:ManagePassword"
      ],
      "Resource": [
        "strata:user/${strata:username}",
        "strata:trash/${strata:username}/*",
        "strata:upload/${strata:username}/*",
        "strata:token/${strata:username}/*",
        "strata:job/${strata:username}/*"
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
	// homeDocLinks: with ManageShares, before OwnAudit (the links branch).
	homeDocLinks = `{
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
    }
  ]
}
`
)

// EarlierBuiltIn lists the documents earlier versions stored as the
// built-in policy name, oldest first (none: it never changed).
func EarlierBuiltIn(name string) []string {
	if name == HomePolicyName {
		return []string{homeDocPolicies, homeDocPassword, homeDocAudit, homeDocLinks}
	}
	return nil
}
