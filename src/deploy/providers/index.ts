/**
 * The resource providers by CloudFormation type, and the types recorded without a service.
 */
import type { ProviderRegistry } from '../types.js';
import {
  lambdaAlias,
  lambdaEventInvokeConfig,
  lambdaEventSourceMapping,
  lambdaFunction,
  lambdaLayerVersion,
  lambdaPermission,
  lambdaUrl,
  lambdaVersion,
} from './lambda.js';

export const providers: ProviderRegistry = {
  'AWS::Lambda::Function': lambdaFunction,
  'AWS::Lambda::Version': lambdaVersion,
  'AWS::Lambda::Alias': lambdaAlias,
  'AWS::Lambda::EventSourceMapping': lambdaEventSourceMapping,
  'AWS::Lambda::EventInvokeConfig': lambdaEventInvokeConfig,
  'AWS::Lambda::Permission': lambdaPermission,
  'AWS::Lambda::Url': lambdaUrl,
  'AWS::Lambda::LayerVersion': lambdaLayerVersion,
};

export const RECORDED_TYPES: string[] = [];
