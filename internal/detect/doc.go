// Package detect matches STIX indicators and Sigma rules against logs.
//
// A Builder turns indicators into an Index, one at a time, from STIX
// objects (Add) or straight from plain lists (AddList), so that indexing a
// million indicators never holds a million STIX objects. Exact values (IP
// addresses, domain names, hashes by algorithm, e-mail and wallet
// addresses, normalised URLs) sit in one open-addressing table over an
// arena of key bytes, with a Bloom filter in front once it is large;
// domain names are matched on the name and every parent by a suffix walk
// over labels; address blocks live in a prefix table; the STIX pattern
// evaluator confirms patterns the table cannot answer alone, and patterns
// over several observations (AND, FOLLOWEDBY, REPEATS) are evaluated over
// each log's stream of events.
//
// Readers (see format.go) turn log lines into Events: typed values by STIX
// object path, extracted by field scanners rather than full decoding. Scan
// streams inputs through a pool of workers in chunks of lines, with bounded
// memory, emits hits in input order per file, and can follow growing files
// like tail -F. Sightings turns hits into STIX sightings.
package detect
