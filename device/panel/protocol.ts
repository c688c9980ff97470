/** The LED matrix serial protocol (docs/panel-protocol.md): one import for both ends of the line. */
export * from './crc16';
export * from './packets';
export * from './parser';
