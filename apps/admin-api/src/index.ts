export { createAdminServer, type AdminServer, type AdminServerOptions } from './server';
export { loadConfig, AdminConfigError, type AdminApiConfig } from './config';
