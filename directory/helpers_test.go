package directory

import (
	"time"

	"github.com/sendguard/sendguard/internal/slapdtest"
)

func testConfig(url string) Config {
	return Config{URL: url, BindDN: slapdtest.BindDN, Password: slapdtest.Password, BaseDN: slapdtest.BaseDN,
		GroupBaseDN: slapdtest.GroupDN, PoolSize: 2, DialTimeout: time.Second, RequestTimeout: 2 * time.Second}
}
