package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/serving"
	"github.com/loglambda/loglambda/serving/lakesql"
)

func runServe(ctx context.Context, args []string, _ io.Writer) error {
	fs := newFlags("serve", "serve [flags]")
	var common commonFlags
	common.registerStore(fs)
	// The brokers give /v1/status the partitions' end offsets: lag is the
	// broker's end now minus the checkpoint (without them, unknown).
	registerBrokers(fs, &common.brokers)
	common.kafkaSec.register(fs)
	var apiSec apiSecFlags
	apiSec.register(fs)
	var httpAddr, grpcAddr string
	registerAPI(fs, &httpAddr, &grpcAddr)
	refresh := fs.Duration("refresh-interval", serving.DefaultRefreshInterval, "how often the cache is refreshed from MongoDB")
	var lf lakeFlags
	lf.register(fs, defaultLakeDir, " (POST /v1/sql, exact UV); empty: none")
	sqlLimit := fs.Int("sql-row-limit", lakesql.DefaultRowLimit, "most rows in a POST /v1/sql answer; more are cut and the answer says truncated")
	sqlTimeout := fs.Duration("sql-timeout", lakesql.DefaultTimeout, "timeout of a POST /v1/sql query (answered 504)")
	sqlMemory := fs.String("sql-memory-limit", lakesql.DefaultMemoryLimit, "DuckDB memory limit of each POST /v1/sql query")
	var alerting alertFlags
	alerting.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := alerting.validate(); err != nil {
		return err
	}
	if common.mongoDB == "" {
		return errors.New("--mongo-db is empty")
	}
	secOpts, err := apiSec.options()
	if err != nil {
		return err
	}
	store, cache, err := lf.open(ctx, defaultLakeCache)
	if err != nil {
		return err
	}
	sqlOpts := []lakesql.Opt{lakesql.RowLimit(*sqlLimit), lakesql.Timeout(*sqlTimeout), lakesql.MemoryLimit(*sqlMemory)}
	if store != nil {
		sqlOpts = append(sqlOpts, lakesql.Remote(store, cache))
	}
	db, closeDB, err := common.connectMongo(ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	// serve knows the pane of the views' settings, and answers on its grid.
	if _, err := common.ensureContract(ctx, db, "serve", []string{"--pane"}); err != nil {
		return err
	}
	if brokers := common.brokerList(); len(brokers) > 0 {
		kopts, err := common.kafkaSec.opts()
		if err != nil {
			return err
		}
		admin, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, kopts...)...)
		if err != nil {
			return fmt.Errorf("kafka client for the status: %w", err)
		}
		defer admin.Close()
		secOpts = append(secOpts, serving.BrokerEndOffsets(admin, common.topic))
	}
	srv, err := serving.New(db, append(append(secOpts, alerting.servingOpts(httpAddr)...),
		serving.Topic(common.topic),
		serving.Pane(common.pane),
		serving.RefreshInterval(*refresh),
		serving.Lake(lf.location),
		serving.SQL(sqlOpts...),
		serving.GRPC(grpcAddr),
		serving.Logger(slog.Default()),
	)...)
	if err != nil {
		return err
	}
	return srv.Run(ctx, httpAddr)
}
