/** The deploy CLI's programmatic API (`deployStack` for `nimbus up --example`) and its commands. */
export { deployStack, diffStack, deleteStack, listStacks, DeployError } from './deploy.js';
export type { DeployOptions, DeployResult, StackOutput } from './deploy.js';
export { BuildError, buildTemplate } from './build.js';
export { deployCommands } from './commands.js';
