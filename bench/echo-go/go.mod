module ternbench/echo

go 1.19
