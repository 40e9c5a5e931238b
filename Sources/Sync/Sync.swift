// Sync module.
