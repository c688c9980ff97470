export * from './topics';
export * from './schemas';
export * from './codec';
export * from './api';
export * from './access';
export * from './accessApi';
export * from './claim';
export * from './topicAccess';
