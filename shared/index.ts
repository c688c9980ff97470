export * from './topics';
export * from './schemas';
export * from './codec';
export * from './api';
export * from './text';
export * from './mqttPacketSize';
export * from './replayClock';
