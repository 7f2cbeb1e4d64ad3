// Package detect matches STIX indicators and Sigma rules against logs.
//
// Compile turns indicators into an Index: exact values in hash maps (IP
// addresses, hashes by algorithm, e-mail and wallet addresses, URLs after
// normalisation), domain names matched on the name and every parent by a
// suffix walk over labels, address blocks in a prefix table, and the full
// STIX pattern evaluator for the patterns the maps cannot answer alone.
//
// Readers (see format.go) turn log lines into Events: typed values by STIX
// object path, extracted by field scanners rather than full decoding. Scan
// streams inputs through a pool of workers in chunks of lines, with bounded
// memory, and emits hits in input order per file.
package detect
