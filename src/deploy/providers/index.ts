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
import {
  restApi,
  restApiKey,
  restAuthorizer,
  restGatewayResponse,
  restAccount,
  restModel,
  restRequestValidator,
  restDeployment,
  restMethod,
  restResource,
  restStage,
  restUsagePlan,
  restUsagePlanKey,
} from './apigateway.js';
import {
  apiGatewayV2Api,
  apiGatewayV2Authorizer,
  apiGatewayV2Deployment,
  apiGatewayV2Integration,
  apiGatewayV2IntegrationResponse,
  apiGatewayV2Route,
  apiGatewayV2RouteResponse,
  apiGatewayV2Stage,
} from './apigatewayv2.js';
import {
  eventsEventBus,
  eventsRule,
  logsLogGroup,
  logsMetricFilter,
  logsSubscriptionFilter,
  recordedProviders,
  schedulerSchedule,
} from './events.js';
import { dynamodbGlobalTable, dynamodbTable } from './dynamodb.js';
import {
  apiGatewayV2ApiMapping,
  apiGatewayV2DomainName,
  restBasePathMapping,
  restDomainName,
} from './domains.js';
import { snsSubscription, snsTopic, snsTopicPolicy, sqsQueue, sqsQueuePolicy } from './messaging.js';
import { s3Bucket } from './s3.js';

export const providers: ProviderRegistry = {
  'AWS::Lambda::Function': lambdaFunction,
  'AWS::Lambda::Version': lambdaVersion,
  'AWS::Lambda::Alias': lambdaAlias,
  'AWS::Lambda::EventSourceMapping': lambdaEventSourceMapping,
  'AWS::Lambda::EventInvokeConfig': lambdaEventInvokeConfig,
  'AWS::Lambda::Permission': lambdaPermission,
  'AWS::Lambda::Url': lambdaUrl,
  'AWS::Lambda::LayerVersion': lambdaLayerVersion,
  'AWS::DynamoDB::Table': dynamodbTable,
  'AWS::DynamoDB::GlobalTable': dynamodbGlobalTable,
  'AWS::S3::Bucket': s3Bucket,
  'AWS::SQS::Queue': sqsQueue,
  'AWS::SQS::QueuePolicy': sqsQueuePolicy,
  'AWS::SNS::Topic': snsTopic,
  'AWS::SNS::Subscription': snsSubscription,
  'AWS::SNS::TopicPolicy': snsTopicPolicy,
  'AWS::ApiGatewayV2::Api': apiGatewayV2Api,
  'AWS::ApiGatewayV2::Route': apiGatewayV2Route,
  'AWS::ApiGatewayV2::RouteResponse': apiGatewayV2RouteResponse,
  'AWS::ApiGatewayV2::Integration': apiGatewayV2Integration,
  'AWS::ApiGatewayV2::IntegrationResponse': apiGatewayV2IntegrationResponse,
  'AWS::ApiGatewayV2::Authorizer': apiGatewayV2Authorizer,
  'AWS::ApiGatewayV2::Stage': apiGatewayV2Stage,
  'AWS::ApiGatewayV2::Deployment': apiGatewayV2Deployment,
  'AWS::ApiGatewayV2::DomainName': apiGatewayV2DomainName,
  'AWS::ApiGatewayV2::ApiMapping': apiGatewayV2ApiMapping,
  'AWS::ApiGateway::DomainName': restDomainName,
  'AWS::ApiGateway::BasePathMapping': restBasePathMapping,
  'AWS::ApiGateway::RestApi': restApi,
  'AWS::ApiGateway::Resource': restResource,
  'AWS::ApiGateway::Method': restMethod,
  'AWS::ApiGateway::Deployment': restDeployment,
  'AWS::ApiGateway::Stage': restStage,
  'AWS::ApiGateway::ApiKey': restApiKey,
  'AWS::ApiGateway::UsagePlan': restUsagePlan,
  'AWS::ApiGateway::UsagePlanKey': restUsagePlanKey,
  'AWS::ApiGateway::Authorizer': restAuthorizer,
  'AWS::ApiGateway::GatewayResponse': restGatewayResponse,
  'AWS::ApiGateway::Account': restAccount,
  'AWS::ApiGateway::Model': restModel,
  'AWS::ApiGateway::RequestValidator': restRequestValidator,
  'AWS::Events::Rule': eventsRule,
  'AWS::Events::EventBus': eventsEventBus,
  'AWS::Scheduler::Schedule': schedulerSchedule,
  'AWS::Logs::LogGroup': logsLogGroup,
  'AWS::Logs::MetricFilter': logsMetricFilter,
  'AWS::Logs::SubscriptionFilter': logsSubscriptionFilter,
  ...recordedProviders,
};

export const RECORDED_TYPES: string[] = Object.keys(recordedProviders);
