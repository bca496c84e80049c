export { createAdminServer, type AdminServer, type AdminServerOptions } from './server';
export { loadConfig, AdminConfigError, type AdminApiConfig } from './config';
export { createWarmer, type AdminWarmer, type AdminWarmSetup, type WarmingMode } from './warming';
