// Bounds on the plugin configuration, so that configure time and memory stay small whatever a
// config says: parsing is linear, and these keep its largest input to about 100 MiB of VM
// memory and a couple of seconds (README, Limits). A config over a bound is refused, naming the
// field. The controller's configs are far below them (one entry per service and route).
export const MAX_CONFIG_BYTES: i32 = 2 << 20;
export const MAX_SERVICES: i32 = 4096;
export const MAX_ROUTES_PER_SERVICE: i32 = 1024;
/** All services' routes together. */
export const MAX_ROUTES: i32 = 8192;
export const MAX_ADDRESSES_PER_SERVICE: i32 = 256;
export const MAX_ATTRIBUTES_PER_MATCH: i32 = 32;
export const MAX_DESTINATIONS_PER_ROUTE: i32 = 64;
export const MAX_MUTATIONS_PER_ROUTE: i32 = 64;
export const MAX_RATE_LIMIT_CONDITIONS: i32 = 64;
