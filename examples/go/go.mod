module tern.example/hello

go 1.19
