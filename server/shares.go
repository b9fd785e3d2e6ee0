package server

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/shares"
	"github.com/strata-storage/strata/internal/clip"
	"github.com/strata-storage/strata/internal/storepath"
	"github.com/strata-storage/strata/server/api"
)

// The API of share links, for their owners: /v1/shares.

func (s *Server) sharesOff() *problem {
	return problemf(http.StatusNotFound, api.CodeNotFound, "this server serves no share links")
}

func apiShare(l shares.Link) api.Share {
	a := api.Share{
		ID: l.ID, Owner: l.Owner, EntryID: l.EntryID, Kind: l.Kind, Path: l.Path, Name: l.Name, Mode: string(l.Mode),
		Created: l.Created, Password: l.Password, MaxDownloads: l.MaxDownloads, Downloads: l.Downloads,
		MaxUploadSize: l.MaxUploadSize, AllowIP: l.AllowIP, Note: l.Note, State: l.State, Revealable: l.Revealable,
	}
	if !l.Expires.IsZero() {
		t := l.Expires
		a.Expires = &t
	}
	return a
}

// parseAllowIP reads networks in CIDR notation; a bare address is a
// network of one.
func parseAllowIP(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, v := range list {
		v = strings.TrimSpace(v)
		if a, err := netip.ParseAddr(v); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return nil, badRequest("allowIp: %q is not an address or a network in CIDR notation", clip.Text(v))
		}
		out = append(out, p)
	}
	return out, nil
}

// shareURL is the address of a link's page: under the public URL the
// server was given, or the one the request came to.
func (s *Server) shareURL(r *http.Request, token string) string {
	base := s.links.base
	if e, ok := entryPoint(r.Context()); ok && base == "" {
		base = e.Web
	}
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return strings.TrimSuffix(base, "/") + "/s/" + token
}

func (s *Server) createShare(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	if s.links.sh == nil {
		return s.sharesOff()
	}
	var req api.CreateShareRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	p, err := parsePathField("path", req.Path)
	if err != nil {
		return err
	}
	nets, err := parseAllowIP(req.AllowIP)
	if err != nil {
		return err
	}
	o := shares.Options{Password: req.Password, MaxDownloads: req.MaxDownloads, Mode: shares.Mode(req.Mode),
		MaxUploadSize: req.MaxUploadSize, AllowIP: nets, Note: req.Note}
	if req.Expires != nil {
		o.Expires = *req.Expires
	}
	l, tok, err := s.links.sh.Create(r.Context(), pr, p, o)
	if err != nil {
		return err
	}
	a := apiShare(l)
	a.Token, a.URL = tok, s.shareURL(r, tok)
	return writeJSON(w, http.StatusCreated, a)
}

func (s *Server) listShares(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	if s.links.sh == nil {
		return s.sharesOff()
	}
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	var p *storepath.Path
	if v := r.URL.Query().Get("path"); v != "" {
		pp, err := storepath.Parse(v)
		if err != nil {
			return err
		}
		p = &pp
	}
	pg, err := s.links.sh.List(r.Context(), pr, r.URL.Query().Get("user"), p, cursor, limit)
	if err != nil {
		return err
	}
	out := api.SharePage{Shares: make([]api.Share, 0, len(pg.Links)), Cursor: pg.Cursor}
	for _, l := range pg.Links {
		out.Shares = append(out.Shares, apiShare(l))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getShare(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	if s.links.sh == nil {
		return s.sharesOff()
	}
	q := r.URL.Query()
	if reveal, err := boolParam(r, "reveal"); err != nil {
		return err
	} else if reveal {
		// The URL again, for the link's owner only (Reveal decides).
		if u := q.Get("user"); u != "" && u != pr.Name {
			return problemf(http.StatusForbidden, api.CodeForbidden, "only the link's owner can see its address again")
		}
		l, tok, err := s.links.sh.Reveal(r.Context(), pr, r.PathValue("id"))
		if err != nil {
			return err
		}
		a := apiShare(l)
		a.Token, a.URL = tok, s.shareURL(r, tok)
		return writeJSON(w, http.StatusOK, a)
	}
	l, err := s.links.sh.Get(r.Context(), pr, q.Get("user"), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, apiShare(l))
}

func (s *Server) revokeShare(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	if s.links.sh == nil {
		return s.sharesOff()
	}
	if err := s.links.sh.Revoke(r.Context(), pr, r.URL.Query().Get("user"), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// SetPublicURL tells the server the address visitors reach it by, for the
// URLs of share links (""; the address each request came to). It is
// called before the server serves.
func (s *Server) SetPublicURL(u string) { s.links.base = u }
