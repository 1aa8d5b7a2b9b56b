export * from './audit-log';
export * from './audit-record';
export * from './audit.module';
export * from './request-fingerprint';
