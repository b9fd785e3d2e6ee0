package awskms_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/strata-storage/strata/backend/awstest"
	"github.com/strata-storage/strata/backend/keys"
	"github.com/strata-storage/strata/backend/keys/awskms"
)

// TestUnavailable: throttling and transport failures that outlast the
// client's retries wrap keys.ErrUnavailable (never ErrDecrypt); the
// caller's cancellation and KMS's other answers do not.
func TestUnavailable(t *testing.T) {
	admin := awstest.KMS(t)
	keyID, _ := createKey(t, admin)
	ec := keys.Context{"blob": "b-unavailable"}

	for _, code := range []string{"ThrottlingException", "LimitExceededException"} {
		t.Run(code, func(t *testing.T) {
			f := newFaults()
			s := newService(t, newClient(t, f), keyID)
			dk := generate(t, s, ec)
			f.fail("GenerateDataKey", code, -1)
			f.fail("Decrypt", code, -1)
			f.fail("ReEncrypt", code, -1)
			_, err := s.GenerateDataKey(t.Context(), ec)
			wantUnavailable(t, "GenerateDataKey", err)
			wantCode(t, err, code)
			_, err = s.Decrypt(t.Context(), dk.Wrapped, ec)
			wantUnavailable(t, "Decrypt", err)
			_, _, err = s.Rewrap(t.Context(), dk.Wrapped, ec)
			wantUnavailable(t, "Rewrap", err)
		})
	}

	t.Run("ConnectionDropped", func(t *testing.T) {
		base := http.DefaultTransport.(*http.Transport).Clone()
		rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".Decrypt") {
				if r.Body != nil {
					_, _ = io.Copy(io.Discard, r.Body)
				}
				return nil, errors.New("read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer")
			}
			return base.RoundTrip(r)
		})
		s := newService(t, newClient(t, rt), keyID)
		dk := generate(t, s, ec)
		_, err := s.Decrypt(t.Context(), dk.Wrapped, ec)
		wantUnavailable(t, "Decrypt over dropped connections", err)
	})

	t.Run("ConnectionRefused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		c := kms.NewFromConfig(awstest.Config(t), func(o *kms.Options) {
			o.BaseEndpoint = aws.String("http://" + addr)
			o.RetryMaxAttempts = 2
		})
		s, err := awskms.New(c, keyID)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.GenerateDataKey(t.Context(), ec)
		wantUnavailable(t, "GenerateDataKey from an endpoint that refuses connections", err)
	})

	t.Run("CallerCancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		base := http.DefaultTransport.(*http.Transport).Clone()
		rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".GenerateDataKey") {
				cancel()
				<-r.Context().Done()
				return nil, r.Context().Err()
			}
			return base.RoundTrip(r)
		})
		s := newService(t, newClient(t, rt), keyID)
		_, err := s.GenerateDataKey(ctx, ec)
		if !errors.Is(err, context.Canceled) || errors.Is(err, keys.ErrUnavailable) {
			t.Errorf("GenerateDataKey cancelled by its caller: err = %v, want context.Canceled and not ErrUnavailable", err)
		}
	})

	t.Run("BadDataIsNot", func(t *testing.T) {
		s := newService(t, newClient(t, nil), keyID)
		dk := generate(t, s, ec)
		_, err := s.Decrypt(t.Context(), dk.Wrapped, keys.Context{"blob": "other"})
		if !errors.Is(err, keys.ErrDecrypt) || errors.Is(err, keys.ErrUnavailable) {
			t.Errorf("Decrypt with another context: err = %v, want ErrDecrypt only", err)
		}
	})
}

func wantUnavailable(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, keys.ErrUnavailable) || errors.Is(err, keys.ErrDecrypt) {
		t.Errorf("%s: err = %v, want keys.ErrUnavailable (and not ErrDecrypt)", what, err)
	}
}
