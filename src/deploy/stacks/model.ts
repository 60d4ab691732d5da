/**
 * State and errors of the stack engine. Everything lives in Store collections (no SQL), keyed
 * by account and region, so SQLite and PostgreSQL hold the same documents.
 */
import { AwsError } from '../../protocols/errors.js';

export interface Scope {
  accountId: string;
  region: string;
}

export type StackStatus =
  | 'CREATE_IN_PROGRESS'
  | 'CREATE_FAILED'
  | 'CREATE_COMPLETE'
  | 'ROLLBACK_IN_PROGRESS'
  | 'ROLLBACK_FAILED'
  | 'ROLLBACK_COMPLETE'
  | 'DELETE_IN_PROGRESS'
  | 'DELETE_FAILED'
  | 'DELETE_COMPLETE'
  | 'UPDATE_IN_PROGRESS'
  | 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS'
  | 'UPDATE_COMPLETE'
  | 'UPDATE_FAILED'
  | 'UPDATE_ROLLBACK_IN_PROGRESS'
  | 'UPDATE_ROLLBACK_FAILED'
  | 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS'
  | 'UPDATE_ROLLBACK_COMPLETE'
  | 'REVIEW_IN_PROGRESS';

export interface StackOutput {
  OutputKey: string;
  OutputValue: string;
  Description?: string;
  ExportName?: string;
}

export interface StackRecord {
  stackId: string;
  stackName: string;
  accountId: string;
  region: string;
  status: StackStatus;
  statusReason?: string;
  creationTime: number;
  lastUpdatedTime?: number;
  deletionTime?: number;
  description?: string;
  /** The template as the user sent it. */
  templateBody: string;
  /** After the SAM transform, as JSON. */
  processedTemplate: string;
  /** Parameter values as given/kept (raw strings). */
  parameters: Record<string, string>;
  /** As DescribeStacks shows them (NoEcho -> `****`). */
  describedParameters: { ParameterKey: string; ParameterValue: string }[];
  tags: { Key: string; Value: string }[];
  capabilities: string[];
  disableRollback: boolean;
  onFailure?: 'DO_NOTHING' | 'ROLLBACK' | 'DELETE';
  outputs: StackOutput[];
  /** Export names this stack reads with Fn::ImportValue. */
  imports: string[];
  notificationARNs: string[];
  changeSetId?: string;
  clientRequestToken?: string;
}

export interface ResourceRecord {
  logicalId: string;
  type: string;
  physicalId: string;
  props: Record<string, unknown>;
  attributes: Record<string, unknown>;
  status: string;
  statusReason?: string;
  timestamp: number;
  /** Recorded without a provider (RECORDED_TYPES) or skipped as unsupported. */
  recordedOnly?: boolean;
  deletionPolicy?: string;
  metadata?: Record<string, unknown>;
}

export interface StackEvent {
  StackId: string;
  EventId: string;
  StackName: string;
  LogicalResourceId: string;
  PhysicalResourceId: string;
  ResourceType: string;
  Timestamp: number;
  ResourceStatus: string;
  ResourceStatusReason?: string;
  ResourceProperties?: string;
  ClientRequestToken?: string;
}

export interface ResourceChangeRecord {
  Action: 'Add' | 'Modify' | 'Remove';
  LogicalResourceId: string;
  PhysicalResourceId?: string;
  ResourceType: string;
  Replacement?: 'True' | 'False' | 'Conditional';
  Scope: string[];
  Details: {
    Target: { Attribute: string; Name?: string; RequiresRecreation: string };
    Evaluation: string;
    ChangeSource: string;
  }[];
}

export interface ChangeSetRecord {
  changeSetId: string;
  changeSetName: string;
  stackId: string;
  stackName: string;
  accountId: string;
  region: string;
  type: 'CREATE' | 'UPDATE';
  description?: string;
  status: 'CREATE_PENDING' | 'CREATE_IN_PROGRESS' | 'CREATE_COMPLETE' | 'DELETE_COMPLETE' | 'FAILED';
  statusReason?: string;
  executionStatus:
    'UNAVAILABLE' | 'AVAILABLE' | 'EXECUTE_IN_PROGRESS' | 'EXECUTE_COMPLETE' | 'EXECUTE_FAILED' | 'OBSOLETE';
  creationTime: number;
  templateBody: string;
  parameters: Record<string, string>;
  describedParameters: { ParameterKey: string; ParameterValue: string }[];
  tags: { Key: string; Value: string }[];
  capabilities: string[];
  changes: ResourceChangeRecord[];
}

export interface ExportRecord {
  name: string;
  value: string;
  stackId: string;
  stackName: string;
}

export const C = {
  stacks: 'cfn-stacks',
  names: 'cfn-stack-names',
  resources: 'cfn-resources',
  events: 'cfn-events',
  changeSets: 'cfn-changesets',
  exports: 'cfn-exports',
} as const;

export const scopeKey = (s: Scope): string => `${s.accountId}/${s.region}/`;

export const errors = {
  validation: (message: string) => new AwsError('ValidationError', message, 400),
  alreadyExists: (name: string) =>
    new AwsError('AlreadyExistsException', `Stack [${name}] already exists`, 400),
  stackNotFound: (nameOrId: string) =>
    new AwsError('ValidationError', `Stack with id ${nameOrId} does not exist`, 400),
  changeSetNotFound: (name: string) =>
    new AwsError('ChangeSetNotFound', `ChangeSet [${name}] does not exist`, 404),
  capabilities: (caps: string[]) =>
    new AwsError('InsufficientCapabilitiesException', `Requires capabilities : [${caps.join(', ')}]`, 400),
  tokenExists: () =>
    new AwsError(
      'TokenAlreadyExistsException',
      'Another Stack with the same ClientRequestToken already exists.',
      400,
    ),
  noUpdates: () => new AwsError('ValidationError', 'No updates are to be performed.', 400),
  busy: (stackId: string, status: string, verb = 'updated') =>
    new AwsError('ValidationError', `Stack:${stackId} is in ${status} state and can not be ${verb}.`, 400),
};

export const TERMINAL_OK: ReadonlySet<string> = new Set([
  'CREATE_COMPLETE',
  'UPDATE_COMPLETE',
  'UPDATE_ROLLBACK_COMPLETE',
]);

export function isInProgress(status: string): boolean {
  return status.endsWith('_IN_PROGRESS') && status !== 'REVIEW_IN_PROGRESS';
}
