package main

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"github.com/loglambda/loglambda/serving"
)

func serveCommand() command {
	return command{
		name:    "serve",
		summary: "answer queries over HTTP and gRPC from the merged batch and speed views",
		run:     runServe,
	}
}

func runServe(ctx context.Context, args []string, _ io.Writer) error {
	fs := newFlags("serve", "serve [flags]")
	var common commonFlags
	common.registerStore(fs)
	httpAddr := fs.String("http", "127.0.0.1:8080", "HTTP listen address")
	grpcAddr := fs.String("grpc", "127.0.0.1:9090", "gRPC listen address (loglambda.v1.QueryService, health, reflection); empty: no gRPC")
	refresh := fs.Duration("refresh-interval", serving.DefaultRefreshInterval, "how often the cache is refreshed from MongoDB")
	lake := fs.String("lake", "./lake", "directory of the Parquet lake")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if common.mongoDB == "" {
		return errors.New("--mongo-db is empty")
	}
	db, closeDB, err := common.connectMongo(ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	srv, err := serving.New(db,
		serving.Topic(common.topic),
		serving.Pane(common.pane),
		serving.RefreshInterval(*refresh),
		serving.Lake(*lake),
		serving.GRPC(*grpcAddr),
		serving.Logger(slog.Default()),
	)
	if err != nil {
		return err
	}
	return srv.Run(ctx, *httpAddr)
}
