// Package asset knows the tokens most stolen funds move in: their symbols
// and decimals, by contract (Ethereum mainnet and TRON). Other tokens have
// no known value; a graph names them by contract only.
package asset

// Token is a known token.
type Token struct {
	Symbol   string
	Decimals int
}

var known = map[string]Token{
	"0xdac17f958d2ee523a2206206994597c13d831ec7": {"USDT", 6},
	"0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48": {"USDC", 6},
	"0x6b175474e89094c44da98b954eedeac495271d0f": {"DAI", 18},
	"0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2": {"WETH", 18},
	"0x2260fac5e5542a773aa44fbcfedf7c193bc2c599": {"WBTC", 8},
	"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t":         {"USDT", 6},
	"TEkxiTehnzSmSe2XqrBj4w32RUN966rdz8":         {"USDC", 6},
}

// Known returns the token of contract (as a graph names the asset).
func Known(contract string) (Token, bool) {
	t, ok := known[contract]
	return t, ok
}
