package provisioning

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// The templates are JSON so that tests (and Summarize) can parse them with
// encoding/json; CloudFormation takes JSON and YAML alike. They are embedded
// as strings, which cannot be modified, so callers always get a fresh copy.
var (
	//go:embed templates/storage.json
	storageJSON string
	//go:embed templates/service.json
	serviceJSON string
)

// StorageTemplate returns the storage stack's template: the S3 bucket,
// DynamoDB table, KMS key and alias, and the servers' IAM role and instance
// profile. No parameter is required.
func StorageTemplate() []byte { return []byte(storageJSON) }

// ServiceTemplate returns the service stack's template: Strata on ECS
// Fargate behind an Application Load Balancer, with auto scaling, CloudFront
// for share links, and logs in CloudWatch. It imports the exports of a
// storage stack named by its StorageStack parameter.
func ServiceTemplate() []byte { return []byte(serviceJSON) }

// Kind is which of Strata's two stacks a stack is.
type Kind string

// The stack kinds.
const (
	KindStorage Kind = "storage"
	KindService Kind = "service"
)

// Template returns the template of the kind, or nil for an unknown kind.
func (k Kind) Template() []byte {
	switch k {
	case KindStorage:
		return StorageTemplate()
	case KindService:
		return ServiceTemplate()
	}
	return nil
}

// DefaultStackName is the base name `strata provision` uses.
const DefaultStackName = "strata"

// ServiceSuffix is appended to the base name to name the service stack.
const ServiceSuffix = "-service"

// Stack names one of Strata's CloudFormation stacks.
type Stack struct {
	// Name is the CloudFormation stack name.
	Name string
	// Kind says which template builds it.
	Kind Kind
}

// StorageStack is the storage stack of a deployment with base name base:
// it is named base itself, so its exports are "<base>-BucketName" and so on.
func StorageStack(base string) Stack { return Stack{Name: base, Kind: KindStorage} }

// ServiceStack is the service stack of a deployment with base name base,
// named "<base>-service".
func ServiceStack(base string) Stack { return Stack{Name: base + ServiceSuffix, Kind: KindService} }

// Template returns the stack's template.
func (s Stack) Template() []byte { return s.Kind.Template() }

// TemplateSummary is what a template declares, for a dry run.
type TemplateSummary struct {
	Description string             `json:"description,omitempty"`
	Parameters  []ParameterSummary `json:"parameters"`
	Resources   []ResourceSummary  `json:"resources"`
	Outputs     []string           `json:"outputs"`
}

// ParameterSummary is one declared parameter.
type ParameterSummary struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// Default is the default value; HasDefault tells "" from no default.
	Default    string `json:"default,omitempty"`
	HasDefault bool   `json:"hasDefault"`
	// NoEcho parameters are secrets: their values are never shown.
	NoEcho      bool   `json:"noEcho,omitempty"`
	Description string `json:"description,omitempty"`
}

// ResourceSummary is one declared resource.
type ResourceSummary struct {
	LogicalID string `json:"logicalId"`
	Type      string `json:"type"`
}

// template is the part of a CloudFormation template this package reads.
type template struct {
	Description string                       `json:"Description"`
	Parameters  map[string]templateParameter `json:"Parameters"`
	Resources   map[string]struct {
		Type string `json:"Type"`
	} `json:"Resources"`
	Outputs map[string]json.RawMessage `json:"Outputs"`
}

type templateParameter struct {
	Type        string          `json:"Type"`
	Default     json.RawMessage `json:"Default"`
	NoEcho      json.RawMessage `json:"NoEcho"`
	Description string          `json:"Description"`
}

// defaultValue is the parameter's default as CloudFormation reports it: a
// string, whatever JSON type the template wrote it in.
func (p templateParameter) defaultValue() (string, bool) {
	if len(p.Default) == 0 {
		return "", false
	}
	var s string
	if err := json.Unmarshal(p.Default, &s); err == nil {
		return s, true
	}
	var list []any
	if err := json.Unmarshal(p.Default, &list); err == nil {
		parts := make([]string, len(list))
		for i, v := range list {
			parts[i] = fmt.Sprint(v)
		}
		return strings.Join(parts, ","), true
	}
	return strings.TrimSpace(string(p.Default)), true
}

func (p templateParameter) noEcho() bool {
	s := strings.Trim(strings.TrimSpace(string(p.NoEcho)), `"`)
	return strings.EqualFold(s, "true")
}

// parseTemplate reads a JSON template. Only JSON is accepted: this package
// compares and summarises templates, which it cannot do for YAML without a
// dependency.
func parseTemplate(tmpl []byte) (*template, error) {
	var t template
	if err := json.Unmarshal(tmpl, &t); err != nil {
		return nil, fmt.Errorf("template is not valid JSON: %w", err)
	}
	if len(t.Resources) == 0 {
		return nil, fmt.Errorf("template declares no resources")
	}
	return &t, nil
}

// Summarize lists what a JSON template declares, sorted by name.
func Summarize(tmpl []byte) (TemplateSummary, error) {
	t, err := parseTemplate(tmpl)
	if err != nil {
		return TemplateSummary{}, err
	}
	s := TemplateSummary{Description: t.Description}
	for name, p := range t.Parameters {
		def, ok := p.defaultValue()
		s.Parameters = append(s.Parameters, ParameterSummary{
			Name: name, Type: p.Type, Default: def, HasDefault: ok, NoEcho: p.noEcho(), Description: p.Description,
		})
	}
	sort.Slice(s.Parameters, func(i, j int) bool { return s.Parameters[i].Name < s.Parameters[j].Name })
	for id, r := range t.Resources {
		s.Resources = append(s.Resources, ResourceSummary{LogicalID: id, Type: r.Type})
	}
	sort.Slice(s.Resources, func(i, j int) bool { return s.Resources[i].LogicalID < s.Resources[j].LogicalID })
	for name := range t.Outputs {
		s.Outputs = append(s.Outputs, name)
	}
	sort.Strings(s.Outputs)
	return s, nil
}

// Declares reports whether the template declares the parameter name.
func (s TemplateSummary) Declares(name string) bool {
	for _, p := range s.Parameters {
		if p.Name == name {
			return true
		}
	}
	return false
}
