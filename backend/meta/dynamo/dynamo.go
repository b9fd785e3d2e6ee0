// Package dynamo is the meta.Store of a production deployment: one DynamoDB
// table in the single-table design of DESIGN.md.
//
// # Table
//
// Every item has the string key attributes pk (HASH) and sk (RANGE); its
// value in the binary attribute v (absent when empty), the counter n and the
// version ver (numbers), when the item has an expiry, ttl (a number of
// epoch seconds, the attribute DynamoDB's Time to Live is enabled on), and
// w, a random token of the last Put, by which a Put that the SDK sent again
// recognises its own write (see Put).
// CreateTable makes such a table; the CloudFormation template
// provisioning/templates/storage.json makes the same one. The partition
// "strata#probe" is reserved for Check.
//
// A new item's version starts at a random base and every write adds one (see
// setVersion in item.go for why this meets meta's promise that a key never
// gets a version twice, even across a delete).
//
// # Requests
//
// Every operation is one request: Get is GetItem, Put and Add are UpdateItem
// (so the version moves on atomically with the write, and Put learns it
// without a read), Delete is DeleteItem, Query is Query and Transact is
// TransactWriteItems. Reads are strongly consistent, because the core reads
// its own writes.
//
// # Retries
//
// Throttling (ThrottlingException, ProvisionedThroughputExceededException,
// RequestLimitExceeded) is retried by the client's retryer, not by this
// package; give the client NewRetryer,
//
//	dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.Retryer = dynamo.NewRetryer() })
//
// so that a burst of throttling is absorbed instead of failing requests (a
// RetryMaxAttempts set in cfg overrides its number of attempts). This package
// only retries what the retryer cannot know is transient: transactions
// cancelled because another transaction held one of their items (see
// Transact).
//
// What still fails after the retries because DynamoDB throttles, answers
// 503, or cannot be reached (a refused or dropped connection, a timeout of
// the HTTP client; not the caller's cancellation) wraps meta.ErrUnavailable
// as well as the SDK's error; so do writes still refused for conflicting
// transactions after this package's retries (which wrap meta.ErrConflict
// too).
//
// # IAM
//
// The server needs dynamodb:DescribeTable, GetItem, Query, UpdateItem,
// DeleteItem and ConditionCheckItem on the table (TransactWriteItems is
// authorised per contained action); IAMActions lists them per operation.
// Check probes all of them at start-up. It never calls PutItem.
package dynamo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/strata-storage/strata/backend/internal/awserr"
	"github.com/strata-storage/strata/backend/meta"
)

// Attribute names of the table.
const (
	attrPK      = "pk"
	attrSK      = "sk"
	attrValue   = "v"
	attrN       = "n"
	attrVersion = "ver"
	attrTTL     = "ttl"
	attrWrite   = "w"
)

// probePK is the partition Check writes to. No partition of the data model
// starts with "strata#".
const probePK = "strata#probe"

// ErrNoTable is wrapped by errors that mean the table does not exist (in the
// client's region), so that a caller can suggest creating it.
var ErrNoTable = errors.New("dynamodb: table does not exist")

// Store is a meta.Store on one DynamoDB table. It is safe for concurrent use.
type Store struct {
	client *dynamodb.Client
	table  string
	region string

	// conflictAttempts and conflictBackoff bound the retries of writes
	// cancelled by conflicting transactions; tests shorten them.
	conflictAttempts int
	conflictBackoff  time.Duration
}

var _ meta.Store = (*Store)(nil)

// Defaults for retrying writes that lost to a concurrent transaction. A few
// attempts spread over about half a second let short transactions finish;
// beyond that the caller's own optimistic retry, which re-reads, is the
// better place to wait.
const (
	defaultConflictAttempts = 5
	defaultConflictBackoff  = 20 * time.Millisecond
	maxConflictBackoff      = 400 * time.Millisecond
)

// New returns a Store on table, reached through client. It makes no request;
// call Check at start-up to learn early that the table is missing, has the
// wrong shape, or may not be used.
func New(client *dynamodb.Client, table string) (*Store, error) {
	if client == nil {
		return nil, errors.New("dynamodb: New: nil client")
	}
	if table == "" {
		return nil, errors.New("dynamodb: New: empty table name")
	}
	return &Store{
		client:           client,
		table:            table,
		region:           client.Options().Region,
		conflictAttempts: defaultConflictAttempts,
		conflictBackoff:  defaultConflictBackoff,
	}, nil
}

// NewRetryer returns the retryer a Strata server should give its DynamoDB
// client (Options.Retryer; config.WithRetryer would give it to every
// service's client). It is the
// SDK's standard retryer (exponential backoff with full jitter, a client-wide
// retry quota against retry storms) with DynamoDB's short 25 ms base delay
// for transient errors, 10 attempts instead of the SDK's 4 so that on-demand
// tables can scale under a burst, and a 5 s cap per wait so that a request is
// not held for minutes. Throttling errors back off from 1 s, as the SDK does.
func NewRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 10
		o.BaseDelay = 25 * time.Millisecond
		o.MaxBackoff = 5 * time.Second
	})
}

// CreateTable creates table with the layout this package expects: on-demand
// billing, pk (string) as partition key and sk (string) as sort key, and Time
// to Live on the attribute ttl. It waits until the table is ACTIVE. It is
// meant for tests and for deployments that do not use the CloudFormation
// template. An existing table with this layout is taken as made: the SDK
// retries a CreateTable whose answer was lost, and the retry finds the
// table the first attempt made. An existing table of another layout is an
// error (wrapping the SDK's ResourceInUseException).
func CreateTable(ctx context.Context, client *dynamodb.Client, table string) error {
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrSK), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
	})
	var inUse *types.ResourceInUseException
	if errors.As(err, &inUse) {
		out, derr := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if derr == nil && checkSchema(out.Table) == nil {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("dynamodb: create table %q: %w", table, ctxErr(ctx, err))
	}
	// New on-demand tables take seconds, not minutes: poll faster than the
	// waiter's default of 20 s.
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = time.Second
		o.MaxDelay = 5 * time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 5*time.Minute); err != nil {
		return fmt.Errorf("dynamodb: create table %q: waiting until it is active: %w", table, ctxErr(ctx, err))
	}
	// TTL can only be enabled once the table is active.
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(attrTTL),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("dynamodb: create table %q: enable TTL on %q: %w", table, attrTTL, ctxErr(ctx, err))
	}
	return nil
}

// Check verifies at start-up that the table exists with the key schema
// (pk S HASH, sk S RANGE) and that this process may read and write it: it
// reads, queries, conditionally writes, then deletes an item of the reserved
// partition "strata#probe", and runs a one-item transaction on it. Errors
// name the table and, when access is denied, the action refused.
func (s *Store) Check(ctx context.Context) error {
	out, err := s.client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.table)})
	if err != nil {
		return s.checkErr(ctx, "DescribeTable", err)
	}
	if err := checkSchema(out.Table); err != nil {
		return fmt.Errorf("dynamodb: table %q: %w", s.table, err)
	}
	if st := out.Table.TableStatus; st != types.TableStatusActive && st != types.TableStatusUpdating {
		return fmt.Errorf("dynamodb: table %q is %s, not ACTIVE", s.table, st)
	}

	var b [8]byte
	_, _ = rand.Read(b[:])
	key := itemKey(probePK, "probe#"+hex.EncodeToString(b[:]))

	_, err = s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key, ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return s.checkErr(ctx, "GetItem", err)
	}
	_, err = s.client.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(probePK)},
		ConsistentRead:            aws.Bool(true),
		Limit:                     aws.Int32(1),
	})
	if err != nil {
		return s.checkErr(ctx, "Query", err)
	}
	// The probe item expires, so one left behind by a crash between the
	// write and the delete does not stay.
	_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key,
		UpdateExpression:          aws.String("SET #ttl = :ttl"),
		ConditionExpression:       aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#ttl": attrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{":ttl": num(time.Now().Add(time.Hour).Unix())},
	})
	if err != nil {
		return s.checkErr(ctx, "UpdateItem", err)
	}
	// Unconditional: the SDK sends a request again when its answer was
	// lost (CI saw a response fail its CRC-32 on moto), and a second
	// conditional delete of the probe would fail the start-up. The
	// write and the transaction exercise conditions already.
	_, err = s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table),
		Key:       key,
	})
	if err != nil {
		return s.checkErr(ctx, "DeleteItem", err)
	}
	_, err = s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{{ConditionCheck: &types.ConditionCheck{
			TableName:                aws.String(s.table),
			Key:                      key,
			ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
			ExpressionAttributeNames: map[string]string{"#pk": attrPK},
		}}},
	})
	if err != nil {
		return s.checkErr(ctx, "TransactWriteItems (ConditionCheckItem)", err)
	}
	return nil
}

// checkSchema verifies the key schema and the key attributes' types.
func checkSchema(t *types.TableDescription) error {
	if t == nil {
		return errors.New("DescribeTable returned no table")
	}
	kinds := make(map[string]types.ScalarAttributeType, len(t.AttributeDefinitions))
	for _, d := range t.AttributeDefinitions {
		kinds[aws.ToString(d.AttributeName)] = d.AttributeType
	}
	var got []string
	for _, k := range t.KeySchema {
		name := aws.ToString(k.AttributeName)
		got = append(got, fmt.Sprintf("%s %s %s", name, kinds[name], k.KeyType))
	}
	const want = "pk S HASH, sk S RANGE"
	if have := strings.Join(got, ", "); have != want {
		return fmt.Errorf("key schema is (%s), want (%s)", have, want)
	}
	return nil
}

// checkErr describes a failed request of Check.
func (s *Store) checkErr(ctx context.Context, action string, err error) error {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && isAccessDenied(apiErr.ErrorCode()) {
		return fmt.Errorf("dynamodb: table %q: dynamodb:%s denied: %w", s.table, action, err)
	}
	err = s.classify(ctx, err)
	if errors.Is(err, ErrNoTable) {
		return fmt.Errorf("dynamodb: %w", err)
	}
	return fmt.Errorf("dynamodb: table %q: check (%s): %w", s.table, action, err)
}

func isAccessDenied(code string) bool {
	return code == "AccessDeniedException" || code == "AccessDenied"
}

// classify maps an SDK error onto the errors of meta and makes the common
// failures say what is wrong. The result wraps err.
func (s *Store) classify(ctx context.Context, err error) error {
	var (
		condErr  *types.ConditionalCheckFailedException
		notFound *types.ResourceNotFoundException
		apiErr   smithy.APIError
	)
	switch {
	case ctx.Err() != nil:
		return ctxErr(ctx, err)
	case errors.As(err, &condErr):
		return fmt.Errorf("%w (%w)", meta.ErrConflict, err)
	case errors.As(err, &notFound):
		return &noTableError{table: s.table, region: s.region, err: err}
	case errors.As(err, &apiErr) && isAccessDenied(apiErr.ErrorCode()):
		return fmt.Errorf("access to table %q denied: %w", s.table, err)
	case awserr.IsThrottlingCode(awserr.Code(err)):
		return fmt.Errorf("table %q is throttling requests and the client's retryer gave up (see dynamo.NewRetryer): %w: %w", s.table, meta.ErrUnavailable, err)
	case awserr.HTTPStatus(err) == http.StatusServiceUnavailable:
		return fmt.Errorf("DynamoDB is unavailable (the client's retryer gave up): %w: %w", meta.ErrUnavailable, err)
	case awserr.IsTransportFailure(ctx, err):
		return fmt.Errorf("DynamoDB cannot be reached: %w: %w", meta.ErrUnavailable, err)
	}
	return err
}

// noTableError says which table is missing where, and wraps ErrNoTable.
type noTableError struct {
	table, region string
	err           error
}

func (e *noTableError) Error() string {
	region := e.region
	if region == "" {
		region = "(none configured)"
	}
	return fmt.Sprintf("table %q does not exist in region %s: %v", e.table, region, e.err)
}

func (e *noTableError) Unwrap() []error { return []error{ErrNoTable, e.err} }

// ctxErr makes err wrap ctx.Err() when the context is done, whatever the SDK
// wrapped.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w: %w", cerr, err)
	}
	return err
}

// itemKey is the primary key of (pk, sk).
func itemKey(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(pk), attrSK: str(sk)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
