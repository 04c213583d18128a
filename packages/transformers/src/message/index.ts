export * from './message-document.js';
export * from './message-content.js';
export * from './message-metadata.js';
export * from './message-status.js';
