// Package directio writes large blocks of new files around the page cache
// (O_DIRECT), where the file system makes that a plain block write: the
// embedded blob store's objects and the client's downloads.
package directio
