package api

import "time"

// CreateShareRequest is the body of POST /v1/shares: a link to the file or
// folder at Path.
type CreateShareRequest struct {
	Path string `json:"path"`
	// Expires is when the link stops working (RFC 3339); nil: never.
	Expires *time.Time `json:"expires,omitempty"`
	// Password, when set, must be given to use the link.
	Password string `json:"password,omitempty"`
	// MaxDownloads bounds the downloads; 0: none.
	MaxDownloads int64 `json:"maxDownloads,omitempty"`
	// Mode is read (the default), upload (drop files into a folder, see
	// nothing) or read-upload.
	Mode string `json:"mode,omitempty"`
	// MaxUploadSize bounds each file dropped through the link; 0: none.
	MaxUploadSize int64 `json:"maxUploadSize,omitempty"`
	// AllowIP, when set, are the only networks (CIDR) visitors may come
	// from.
	AllowIP []string `json:"allowIp,omitempty"`
	Note    string   `json:"note,omitempty"`
}

// Share is a share link as its owner sees it. Token and URL are only in
// the answer to its creation and to its owner's reveal (GET
// /v1/shares/{id}?reveal=1): the token is looked up by its hash, and kept
// only sealed under the key service.
type Share struct {
	ID            string     `json:"id"`
	URL           string     `json:"url,omitempty"`
	Token         string     `json:"token,omitempty"`
	Owner         string     `json:"owner"`
	EntryID       string     `json:"entryId"`
	Kind          string     `json:"kind"`
	Path          string     `json:"path,omitempty"`
	Name          string     `json:"name"`
	Mode          string     `json:"mode"`
	Created       time.Time  `json:"created"`
	Expires       *time.Time `json:"expires,omitempty"`
	Password      bool       `json:"password"`
	MaxDownloads  int64      `json:"maxDownloads,omitempty"`
	Downloads     int64      `json:"downloads"`
	MaxUploadSize int64      `json:"maxUploadSize,omitempty"`
	AllowIP       []string   `json:"allowIp,omitempty"`
	Note          string     `json:"note,omitempty"`
	// State is active, expired, exhausted, trashed or deleted.
	State string `json:"state"`
	// Revealable: the server kept the token (sealed), and
	// GET /v1/shares/{id}?reveal=1 shows its owner the URL again. Links
	// made before it kept them are not.
	Revealable bool `json:"revealable"`
}

// SharePage is one page of GET /v1/shares.
type SharePage struct {
	Shares []Share `json:"shares"`
	Cursor string  `json:"cursor,omitempty"`
}
