export * from './auth.module';
export * from './principal';
export * from './policy';
export * from './api-key.service';
export * from './api-key.repository';
export * from './route-inventory';
export * from './openapi-docs';
