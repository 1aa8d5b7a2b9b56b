export * from './participant-failure';
export * from './processed-command.store';
export * from './command-handler';
export * from './command-processor';
export * from './participant-service';
export * from './nest-transport';
export * from './participant-errors';
export * from './participant-consumer';
