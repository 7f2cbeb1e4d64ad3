// Package stix is Bulwark's STIX 2.1 object model.
//
// An Object keeps the common properties every STIX object may carry, already
// decoded, next to the object's full JSON. Type-specific and custom properties
// (x_…, x-mitre-* types, extensions) are never dropped: they stay in the raw
// JSON and are reachable through Object.Prop. The package also holds what the
// rest of Bulwark needs to trust objects from outside: validation of required
// properties and formats, deterministic identifiers for cyber-observables,
// the upgrade of STIX 2.0 content to 2.1, TLP markings, and a streaming bundle
// reader and writer whose memory use does not grow with the bundle.
//
// It imports nothing else from Bulwark.
package stix
