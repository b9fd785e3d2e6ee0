package provisioning

import (
	"fmt"
	"strings"

	"github.com/strata-storage/strata/internal/shell"
)

// StorageOutputs are the storage stack's outputs.
type StorageOutputs struct {
	BucketName         string `json:"BucketName"`
	TableName          string `json:"TableName"`
	KeyArn             string `json:"KeyArn"`
	KeyAlias           string `json:"KeyAlias"`
	RoleArn            string `json:"RoleArn"`
	InstanceProfileArn string `json:"InstanceProfileArn"`
	Region             string `json:"Region"`
}

// ParseStorageOutputs reads the outputs Deploy returned for a storage
// stack; it fails if one Strata needs is missing.
func ParseStorageOutputs(m map[string]string) (StorageOutputs, error) {
	s := StorageOutputs{
		BucketName: m["BucketName"], TableName: m["TableName"], KeyArn: m["KeyArn"], KeyAlias: m["KeyAlias"],
		RoleArn: m["RoleArn"], InstanceProfileArn: m["InstanceProfileArn"], Region: m["Region"],
	}
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"BucketName", s.BucketName}, {"TableName", s.TableName}, {"KeyAlias", s.KeyAlias}, {"Region", s.Region},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return s, fmt.Errorf("the storage stack has no output %s: is it a Strata storage stack?", strings.Join(missing, ", "))
	}
	return s, nil
}

// Serve is how `strata serve` runs on these resources.
func (s StorageOutputs) Serve() ServeSettings {
	keys := s.KeyAlias
	if keys == "" {
		keys = s.KeyArn
	}
	return ServeSettings{
		Blob: "s3://" + s.BucketName, Meta: "dynamodb://" + s.TableName, Keys: "kms://" + keys, AWSRegion: s.Region,
	}
}

// ServeSettings are the engine settings of `strata serve`.
type ServeSettings struct {
	Blob      string `json:"blob"`
	Meta      string `json:"meta"`
	Keys      string `json:"keys"`
	AWSRegion string `json:"awsRegion"`
	// AWSEndpoint is set only for an emulator or a non-AWS endpoint; on
	// AWS the SDK finds the endpoints itself.
	AWSEndpoint string `json:"awsEndpoint,omitempty"`
}

// Args are the settings as `strata serve` flags.
func (s ServeSettings) Args() []string {
	args := []string{"--blob", s.Blob, "--meta", s.Meta, "--keys", s.Keys, "--aws-region", s.AWSRegion}
	if s.AWSEndpoint != "" {
		args = append(args, "--aws-endpoint", s.AWSEndpoint)
	}
	return args
}

// Env are the settings as STRATA_* environment variables (NAME=value), in
// the order of Args.
func (s ServeSettings) Env() []string {
	env := []string{
		"STRATA_BLOB=" + s.Blob, "STRATA_META=" + s.Meta, "STRATA_KEYS=" + s.Keys, "STRATA_AWS_REGION=" + s.AWSRegion,
	}
	if s.AWSEndpoint != "" {
		env = append(env, "STRATA_AWS_ENDPOINT="+s.AWSEndpoint)
	}
	return env
}

// Command is the whole `strata serve` command line, quoted for a POSIX
// shell where a value needs it.
func (s ServeSettings) Command() string {
	parts := []string{"strata", "serve"}
	for _, a := range s.Args() {
		parts = append(parts, shell.Quote(a))
	}
	return strings.Join(parts, " ")
}
