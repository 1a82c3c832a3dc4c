package policy

import (
	"fmt"
	"reflect"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/ext"

	"github.com/sendguard/sendguard/rules"
)

// Variable names visible to conditions.
const (
	varRecipients  = "recipients"
	varFindings    = "findings"
	varAttachments = "attachments"
	varErrors      = "errors"
	varSubject     = "subject"
	varFrom        = "from"
	varSender      = "sender"
	varSize        = "size"
	varDataItems   = "data_items"
	// Qualified names: CEL resolves sender.department to this variable
	// before field selection, so sender stays a string
	// (sender.endsWith(...)) while the directory fields read naturally.
	varSenderDepartment = "sender.department"
	varSenderGroups     = "sender.groups"
	varSenderManager    = "sender.manager"
	varSenderDirectory  = "sender.directory"
)

// Helper function names and overload ids.
const (
	fnFinding       = "finding"
	fnRecords       = "records"
	fnMaxRecords    = "max_records"
	fnHasAttachment = "has_attachment"
	fnUnscannable   = "unscannable"
	fnPeople        = "people"
	fnAllowance     = "allowance"
	// Sender behaviour (package baseline): namespaced under sender, read
	// from Report.SenderBehaviour.
	fnUnusualHour      = "sender.unusual_hour"
	fnVolumeRatio      = "sender.volume_ratio"
	fnFirstExternalAtt = "sender.first_external_attachment"
	fnHistoryDays      = "sender.history_days"

	ovFinding         = "finding_string"
	ovFindingAt       = "finding_string_string"
	ovRecords         = "records_void"
	ovMaxRecords      = "max_records_void"
	ovHasAttachment   = "has_attachment_void"
	ovHasAttachmentEx = "has_attachment_string"
	ovUnscannable     = "unscannable_void"
	ovPeople          = "people_void"
	ovAllowance       = "allowance_string_int"
	ovUnusualHour     = "sender_unusual_hour_void"
	ovVolumeRatio     = "sender_volume_ratio_void"
	ovVolumeRatioOf   = "sender_volume_ratio_string"
	ovFirstExternal   = "sender_first_external_attachment_void"
	ovHistoryDays     = "sender_history_days_void"
)

// newEnv declares the report types, variables and helpers. Helpers are late
// bound: their implementation closes over the report of one evaluation.
func newEnv() (*cel.Env, error) {
	late := cel.LateFunctionBinding()
	env, err := cel.NewEnv(
		ext.NativeTypes(reflect.TypeFor[rules.Report](), ext.ParseStructTag("json")),
		ext.Strings(),
		ext.Sets(),
		cel.Variable(varRecipients, cel.ObjectType("rules.Recipients")),
		cel.Variable(varFindings, cel.ListType(cel.ObjectType("rules.Finding"))),
		cel.Variable(varAttachments, cel.ListType(cel.ObjectType("rules.Attachment"))),
		cel.Variable(varErrors, cel.ListType(cel.StringType)),
		cel.Variable(varSubject, cel.StringType),
		cel.Variable(varFrom, cel.StringType),
		cel.Variable(varSender, cel.StringType),
		cel.Variable(varSize, cel.IntType),
		cel.Variable(varDataItems, cel.ListType(cel.StringType)),
		cel.Variable(varSenderDepartment, cel.StringType),
		cel.Variable(varSenderGroups, cel.ListType(cel.StringType)),
		cel.Variable(varSenderManager, cel.StringType),
		cel.Variable(varSenderDirectory, cel.StringType),
		cel.Function(fnFinding,
			cel.Overload(ovFinding, []*cel.Type{cel.StringType}, cel.IntType, late),
			cel.Overload(ovFindingAt, []*cel.Type{cel.StringType, cel.StringType}, cel.IntType, late)),
		cel.Function(fnRecords, cel.Overload(ovRecords, nil, cel.IntType, late)),
		cel.Function(fnMaxRecords, cel.Overload(ovMaxRecords, nil, cel.IntType, late)),
		cel.Function(fnHasAttachment,
			cel.Overload(ovHasAttachment, nil, cel.BoolType, late),
			cel.Overload(ovHasAttachmentEx, []*cel.Type{cel.StringType}, cel.BoolType, late)),
		cel.Function(fnUnscannable, cel.Overload(ovUnscannable, nil, cel.IntType, late)),
		cel.Function(fnPeople, cel.Overload(ovPeople, nil, cel.IntType, late)),
		cel.Function(fnAllowance, cel.Overload(ovAllowance, []*cel.Type{cel.StringType, cel.IntType}, cel.IntType, late)),
		cel.Function(fnUnusualHour, cel.Overload(ovUnusualHour, nil, cel.BoolType, late)),
		cel.Function(fnVolumeRatio,
			cel.Overload(ovVolumeRatio, nil, cel.DoubleType, late),
			cel.Overload(ovVolumeRatioOf, []*cel.Type{cel.StringType}, cel.DoubleType, late)),
		cel.Function(fnFirstExternalAtt, cel.Overload(ovFirstExternal, nil, cel.BoolType, late)),
		cel.Function(fnHistoryDays, cel.Overload(ovHistoryDays, nil, cel.IntType, late)),
	)
	if err != nil {
		return nil, fmt.Errorf("policy: cel environment: %w", err)
	}
	return env, nil
}
