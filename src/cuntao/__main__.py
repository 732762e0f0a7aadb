from cuntao.cli import main

main()
