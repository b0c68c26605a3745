module tern.example/persistent

go 1.19
