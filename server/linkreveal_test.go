package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/server/api"
	"github.com/strata-storage/strata/server/client"
)

// TestLinkReveal: the owner of a link gets its URL again (its token is
// kept sealed in the link's record, not in the clear); nobody else does,
// not even an administrator who may manage it; a revoked link is gone;
// a link made before tokens were kept says it cannot be shown again.
func TestLinkReveal(t *testing.T) {
	for _, onAWS := range []bool{false, true} {
		t.Run(map[bool]string{false: "embedded", true: "aws"}[onAWS], func(t *testing.T) {
			f := newLinkFix(t, onAWS)
			ctx := context.Background()
			f.put(f.alice, "/home/alice/x.txt", "x")
			sh := f.share(f.alice, api.CreateShareRequest{Path: "/home/alice/x.txt"})
			if !sh.Revealable {
				t.Errorf("a new link is not revealable: %+v", sh)
			}
			got, err := f.alice.RevealShare(ctx, sh.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.URL != sh.URL || got.Token != sh.Token || got.ID != sh.ID {
				t.Errorf("reveal: %q %q, want %q %q", got.URL, got.Token, sh.URL, sh.Token)
			}
			// A reveal hands out a bearer secret: it is in the audit log,
			// though it changes nothing.
			ap, err := f.alice.Audit(ctx, client.AuditQuery{Action: "strata:ManageShares"})
			if err != nil {
				t.Fatal(err)
			}
			revealed := false
			for _, rec := range ap.Records {
				revealed = revealed || (rec.Op == "GET /v1/shares/{id}" && strings.Contains(rec.Resource, sh.ID))
			}
			if !revealed {
				t.Errorf("no audit record of the reveal: %+v", ap.Records)
			}
			// Listing and describing never carry the token.
			pg, err := f.alice.ListShares(ctx, "", "", "", 0)
			if err != nil || len(pg.Shares) != 1 || pg.Shares[0].Token != "" || pg.Shares[0].URL != "" || !pg.Shares[0].Revealable {
				t.Errorf("list: %+v %v", pg, err)
			}
			if info, err := f.alice.GetShare(ctx, "", sh.ID); err != nil || info.Token != "" || info.URL != "" {
				t.Errorf("info: %+v %v", info, err)
			}
			// The record does not hold the token in the clear.
			h := sha256.Sum256([]byte(sh.Token))
			it, err := f.meta.Get(ctx, "link#"+hex.EncodeToString(h[:]), "link")
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(it.Value), sh.Token) {
				t.Errorf("the link's record holds its token in the clear: %s", it.Value)
			}
			// An administrator manages alice's link but does not see its URL.
			if _, err := f.admin.GetShare(ctx, "alice", sh.ID); err != nil {
				t.Fatal(err)
			}
			if resp, body := f.get("/v1/shares/"+sh.ID+"?reveal=1&user=alice", "Authorization", "Bearer "+f.adminT); resp.StatusCode != http.StatusForbidden || strings.Contains(string(body), sh.Token) {
				t.Errorf("admin reveals alice's link: %d %s", resp.StatusCode, body)
			}
			if _, err := f.admin.RevealShare(ctx, sh.ID); !errors.Is(err, client.ErrNotFound) {
				t.Errorf("admin reveals alice's link as their own: %v", err)
			}
			// A link made before tokens were kept.
			var rec map[string]json.RawMessage
			if err := json.Unmarshal(it.Value, &rec); err != nil {
				t.Fatal(err)
			}
			delete(rec, "tk")
			old, _ := json.Marshal(rec)
			it.Value = old
			if _, err := f.meta.Put(ctx, it, meta.AtVersion(it.Version)); err != nil {
				t.Fatal(err)
			}
			if info, _ := f.alice.GetShare(ctx, "", sh.ID); info.Revealable {
				t.Errorf("an old link says it is revealable")
			}
			if _, err := f.alice.RevealShare(ctx, sh.ID); err == nil || !strings.Contains(err.Error(), "cannot be shown again") {
				t.Errorf("reveal of an old link: %v", err)
			}
			// Revoked: gone.
			if err := f.alice.RevokeShare(ctx, "", sh.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := f.alice.RevealShare(ctx, sh.ID); !errors.Is(err, client.ErrNotFound) {
				t.Errorf("reveal of a revoked link: %v", err)
			}
		})
	}
}
