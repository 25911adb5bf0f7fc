package cli

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"github.com/loglambda/loglambda/serving"
	"github.com/loglambda/loglambda/serving/lakesql"
)

func runServe(ctx context.Context, args []string, _ io.Writer) error {
	fs := newFlags("serve", "serve [flags]")
	var common commonFlags
	common.registerStore(fs)
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
	if err := common.ensureContract(ctx, db, "serve", []string{"--pane"}); err != nil {
		return err
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
