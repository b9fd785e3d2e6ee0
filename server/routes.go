package server

import (
	"net/http"
	"sort"
	"strings"

	"github.com/strata-storage/strata/internal/clip"
	"github.com/strata-storage/strata/server/api"
)

// access says what a route requires before its handler runs. Every route
// names one explicitly; there is no default.
type access int

const (
	// public routes need no credentials (health checks, metrics).
	public access = iota + 1
	// token routes need a valid bearer token; the handler gets the
	// principal, and the core checks what that principal may do.
	token
	// metricsToken routes need the metrics token (Config.MetricsToken),
	// which is no user's; the handler checks it.
	metricsToken
)

// route is one method on one path pattern.
type route struct {
	method  string
	pattern string
	access  access
	h       handler
	// query is every query parameter the route reads: any other is
	// refused, so that a misspelt one (?usr=alice) is not silently
	// ignored.
	query []string
}

// routes is every route of the API. docs/api.md documents each.
func (s *Server) routes() []route {
	return []route{
		{"GET", "/healthz", public, s.healthz, nil},
		{"GET", "/readyz", public, s.readyz, nil},
		{"GET", "/metrics", metricsToken, s.metricsOnAPI, nil},

		{"GET", "/v1/whoami", token, s.whoami, nil},

		{"PUT", "/v1/files/{path...}", token, s.putFile, nil},
		{"GET", "/v1/files/{path...}", token, s.getFile, []string{"version"}},
		{"HEAD", "/v1/files/{path...}", token, s.getFile, []string{"version"}},
		{"DELETE", "/v1/files/{path...}", token, s.deleteEntry, []string{"recursive"}},
		{"PATCH", "/v1/files/{path...}", token, s.setFileAttrs, nil},

		{"GET", "/v1/dirs/{path...}", token, s.listDir, []string{"limit", "cursor", "prefix"}},
		{"PUT", "/v1/dirs/{path...}", token, s.mkdir, []string{"parents"}},
		{"DELETE", "/v1/dirs/{path...}", token, s.deleteEntry, []string{"recursive"}},

		{"GET", "/v1/stat/{path...}", token, s.stat, nil},
		{"POST", "/v1/move", token, s.move, nil},
		{"POST", "/v1/copy", token, s.copy, nil},
		{"GET", "/v1/jobs/{id}", token, s.getJob, []string{"user"}},

		{"GET", "/v1/versions/{path...}", token, s.versions, []string{"limit", "cursor"}},
		{"POST", "/v1/versions/{path...}", token, s.restoreVersion, nil},

		{"GET", "/v1/trash", token, s.listTrash, []string{"limit", "cursor", "user"}},
		{"DELETE", "/v1/trash", token, s.emptyTrash, []string{"user"}},
		{"POST", "/v1/trash/{id}/restore", token, s.restoreTrash, []string{"user"}},
		{"DELETE", "/v1/trash/{id}", token, s.purgeTrash, []string{"user"}},

		{"POST", "/v1/uploads", token, s.createUpload, nil},
		{"GET", "/v1/uploads", token, s.listUploads, []string{"user"}},
		{"GET", "/v1/uploads/{id}", token, s.getUpload, []string{"user"}},
		{"PUT", "/v1/uploads/{id}/parts/{n}", token, s.putPart, []string{"user"}},
		{"POST", "/v1/uploads/{id}/complete", token, s.completeUpload, []string{"user"}},
		{"DELETE", "/v1/uploads/{id}", token, s.abortUpload, []string{"user"}},

		{"GET", "/v1/users", token, s.listUsers, nil},
		{"POST", "/v1/users", token, s.createUser, nil},
		{"DELETE", "/v1/users/{name}", token, s.deleteUser, nil},
		{"PUT", "/v1/users/{name}/password", token, s.setPassword, nil},
		{"POST", "/v1/login", public, s.login, nil},
		{"GET", "/v1/login/aws", public, s.awsLoginInfo, nil},
		{"POST", "/v1/login/aws", public, s.loginAWS, nil},
		{"GET", "/v1/users/{name}/aws-identities", token, s.listAWSIdentities, nil},
		{"POST", "/v1/users/{name}/aws-identities", token, s.addAWSIdentity, nil},
		{"DELETE", "/v1/users/{name}/aws-identities", token, s.removeAWSIdentity, []string{"arn"}},
		{"GET", "/v1/tokens", token, s.listTokens, []string{"user"}},
		{"POST", "/v1/tokens", token, s.createToken, nil},
		{"DELETE", "/v1/tokens/{id}", token, s.revokeToken, []string{"user"}},
		{"GET", "/v1/keys", token, s.listSSHKeys, []string{"user"}},
		{"POST", "/v1/keys", token, s.addSSHKey, nil},
		{"DELETE", "/v1/keys", token, s.removeSSHKey, []string{"user", "fingerprint"}},

		{"GET", "/v1/policies", token, s.listPolicies, nil},
		{"POST", "/v1/policies", token, s.createPolicy, nil},
		{"GET", "/v1/policies/{name}", token, s.getPolicy, nil},
		{"PUT", "/v1/policies/{name}", token, s.updatePolicy, nil},
		{"DELETE", "/v1/policies/{name}", token, s.deletePolicy, nil},
		{"POST", "/v1/policies/{name}/attachments", token, s.attachPolicy, nil},
		{"DELETE", "/v1/policies/{name}/attachments", token, s.detachPolicy, []string{"user", "group"}},
		{"POST", "/v1/simulate", token, s.simulate, nil},
		{"GET", "/v1/groups", token, s.listGroups, nil},
		{"POST", "/v1/groups", token, s.createGroup, nil},
		{"DELETE", "/v1/groups/{name}", token, s.deleteGroup, nil},
		{"PUT", "/v1/groups/{name}/members/{user}", token, s.addMember, nil},
		{"DELETE", "/v1/groups/{name}/members/{user}", token, s.removeMember, nil},

		{"POST", "/v1/usershares", token, s.createUserShare, nil},
		{"GET", "/v1/usershares", token, s.listUserShares, []string{"path"}},
		{"DELETE", "/v1/usershares", token, s.deleteUserShare, []string{"path", "user", "group"}},
		{"GET", "/v1/shared", token, s.listReceivedShares, nil},
		{"DELETE", "/v1/shared", token, s.leaveShare, []string{"path"}},
		{"POST", "/v1/shares", token, s.createShare, nil},
		{"GET", "/v1/shares", token, s.listShares, []string{"user", "path", "cursor", "limit"}},
		{"GET", "/v1/shares/{id}", token, s.getShare, []string{"user", "reveal"}},
		{"DELETE", "/v1/shares/{id}", token, s.revokeShare, []string{"user"}},
		{"GET", "/s/{token}", public, s.showLink, []string{"cursor"}},
		{"HEAD", "/s/{token}", public, s.showLink, []string{"cursor"}},
		{"GET", "/s/{token}/d/{path...}", public, s.showLink, []string{"cursor"}},
		{"POST", "/s/{token}/unlock", public, s.unlockLink, nil},
		{"POST", "/s/{token}/upload", public, s.uploadLink, nil},
		{"GET", "/s/{token}/raw", public, s.rawLink, []string{"inline"}},
		{"HEAD", "/s/{token}/raw", public, s.rawLink, []string{"inline"}},
		{"GET", "/s/{token}/raw/{path...}", public, s.rawLink, []string{"inline"}},
		{"HEAD", "/s/{token}/raw/{path...}", public, s.rawLink, []string{"inline"}},
		{"GET", "/s/{token}/zip", public, s.zipLink, nil},
		{"GET", "/s/{token}/zip/{path...}", public, s.zipLink, nil},

		{"POST", "/v1/admin/collect", token, s.collect, nil},
		{"POST", "/v1/admin/keys/rotate", token, s.rotateKeys, nil},
		{"GET", "/v1/admin/keys", token, s.keyStatus, nil},

		{"GET", "/v1/users/{name}/limits", token, s.getLimits, nil},
		{"PUT", "/v1/users/{name}/limits", token, s.setLimits, nil},
		{"DELETE", "/v1/users/{name}/limits", token, s.clearLimits, nil},
		{"GET", "/v1/usage", token, s.getUsage, []string{"user"}},
		{"PUT", "/v1/users/{name}/quota", token, s.setQuota, nil},
		{"POST", "/v1/users/{name}/quota/recount", token, s.recountUsage, nil},
		{"GET", "/v1/audit", token, s.listAudit, []string{"user", "action", "path", "since", "limit", "cursor"}},
		{"POST", "/v1/archive/{path...}", token, s.archive, nil},
		{"POST", "/v1/restore/{path...}", token, s.restore, nil},
		{"GET", "/v1/archive-prices", token, s.archivePrices, nil},
		{"GET", "/v1/archive-rules", token, s.listArchiveRules, []string{"path"}},
		{"PUT", "/v1/archive-rules/{path...}", token, s.setArchiveRule, nil},
		{"DELETE", "/v1/archive-rules/{path...}", token, s.deleteArchiveRule, nil},
	}
}

// RouteInfo describes a route, for tests that walk the route table.
type RouteInfo struct {
	Method, Pattern string
	// Public routes need no token.
	Public bool
	// MetricsToken routes need the metrics token, which is no user's:
	// every user is denied.
	MetricsToken bool
	// Query is the query parameters the route takes.
	Query []string
}

// Routes lists every route of the API.
func (s *Server) Routes() []RouteInfo {
	var out []RouteInfo
	for _, rt := range s.routes() {
		out = append(out, RouteInfo{Method: rt.method, Pattern: rt.pattern, Public: rt.access == public, MetricsToken: rt.access == metricsToken, Query: rt.query})
	}
	return out
}

// register installs the routes: one mux pattern per path, dispatching on the
// method itself so that a wrong method is a problem+json 405 with Allow, and
// an unknown path a problem+json 404.
func (s *Server) register() {
	byPath := map[string]map[string]http.Handler{}
	var order []string
	for _, rt := range s.routes() {
		if rt.access != public && rt.access != token && rt.access != metricsToken {
			panic("server: route " + rt.method + " " + rt.pattern + " has no access rule")
		}
		if byPath[rt.pattern] == nil {
			byPath[rt.pattern] = map[string]http.Handler{}
			order = append(order, rt.pattern)
		}
		byPath[rt.pattern][rt.method] = s.endpoint(rt)
	}
	for _, pattern := range order {
		s.mux.Handle(pattern, methodSet{s: s, m: byPath[pattern]})
	}
	s.mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeProblem(w, r, problemf(http.StatusNotFound, api.CodeRouteNotFound, "no route for %s %s", clip.Text(r.Method), clip.Text(r.URL.EscapedPath())))
	}))
}

type methodSet struct {
	s *Server
	m map[string]http.Handler
}

func (ms methodSet) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, ok := ms.m[r.Method]; ok {
		h.ServeHTTP(w, r)
		return
	}
	allow := make([]string, 0, len(ms.m))
	for k := range ms.m {
		allow = append(allow, k)
	}
	sort.Strings(allow)
	w.Header().Set("Allow", strings.Join(allow, ", "))
	ms.s.writeProblem(w, r, problemf(http.StatusMethodNotAllowed, api.CodeMethodNotAllowed, "%s is not allowed here (allowed: %s)", clip.Text(r.Method), strings.Join(allow, ", ")))
}
