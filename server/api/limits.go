package api

// LimitsRequest is the body of PUT /v1/users/{name}/limits: the user's own
// limits, replacing those they had. A member left out (or null) keeps the
// server's default; 0 lifts that limit for the user.
type LimitsRequest struct {
	// Requests is the sustained requests per second (the burst is twice
	// as many).
	Requests *float64 `json:"requests,omitempty"`
	// Bandwidth is the bytes per second of request and response bodies
	// together.
	Bandwidth *int64 `json:"bandwidth,omitempty"`
}

// UserLimits is the answer of GET and PUT /v1/users/{name}/limits.
type UserLimits struct {
	User string `json:"user"`
	// Own are the user's own limits (members null: the default).
	Own LimitsRequest `json:"own"`
	// Effective are the limits that apply to the user on the server
	// that answered (0: no limit).
	Effective LimitValues `json:"effective"`
	// Defaults are that server's defaults.
	Defaults LimitValues `json:"defaults"`
}

// LimitValues are rate limits; 0 means none.
type LimitValues struct {
	Requests  float64 `json:"requests"`
	Bandwidth int64   `json:"bandwidth"`
}
